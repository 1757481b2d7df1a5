package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
)

// compare runs the same load three times back to back, each on a fresh
// server: screens on Pulseboard, on the bare gorilla hub, and on
// Centrifugo, the last two fed Pulseboard's own messages. It prints each
// run's report and then one table of the three.
func compare(ctx context.Context, o options, stdout, stderr io.Writer) error {
	type row struct {
		name string
		r    report
	}
	var rows []row
	for _, target := range []struct {
		name                string
		bareHub, centrifugo bool
	}{
		{"Pulseboard", false, false},
		{"bare gorilla hub", true, false},
		{"Centrifugo " + centrifugoVersion, false, true},
	} {
		run := o
		run.compare, run.bareHub, run.centrifugo = false, target.bareHub, target.centrifugo
		progress(stderr, "== %s", target.name)
		r, err := measure(ctx, run, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", target.name, err)
		}
		fmt.Fprintf(stdout, "== %s\n", target.name)
		r.print(stdout)
		fmt.Fprintln(stdout)
		rows = append(rows, row{target.name, r})
	}
	compression := "screens offer permessage-deflate"
	if !o.compress {
		compression = "screens do not compress"
	}
	fmt.Fprintf(stdout, "== %d screens on %d boards, %.0f responses/s for %s; %s\n", o.clients, o.boards, o.rate, o.duration, compression)
	t := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, "screens served by\topen / dropped\tRSS per idle screen\tack → screen p50 / p99\tCPU per tick\tCPU per message\tbytes per message (read / wire)")
	for _, x := range rows {
		fmt.Fprintln(t, x.r.compareRow(x.name))
	}
	t.Flush()
	fmt.Fprintln(stdout, "(Pulseboard's CPU also holds ingest, the aggregator and alerts; the others' is delivery alone, fed by a relay)")
	return nil
}

// compareRow is one line of compare's table, tab-separated.
func (r report) compareRow(name string) string {
	c := r.crowd
	per := float64(r.rssIdle-r.rssBefore) / float64(max(r.open, 1)) / 1024
	ticks := float64(r.messages) / float64(max(r.open, 1))
	perTick, perMsg := 0.0, 0.0
	if ticks > 0 {
		perTick = r.cpu.Seconds() * 1000 / ticks
		perMsg = r.cpu.Seconds() * 1e6 / float64(r.messages)
	}
	bytesRead, bytesWire := 0.0, 0.0
	if r.messages > 0 {
		bytesRead, bytesWire = float64(r.msgBytes)/float64(r.messages), float64(r.wireBytes)/float64(r.messages)
	}
	return fmt.Sprintf("%s\t%d / %d\t%.1f KiB\t%s / %s\t%.1f ms\t%.1f µs\t%.0f / %.0f B",
		name, r.open, c.dropped.Load(), per, c.latency.quantile(0.5), c.latency.quantile(0.99),
		perTick, perMsg, bytesRead, bytesWire)
}
