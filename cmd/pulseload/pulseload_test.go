package main

import (
	"testing"
	"time"
)

func TestCountOf(t *testing.T) {
	msg := []byte(`{"type":"update","tiles":[{"id":"nps","figure":{"responses":5}},{"id":"responses","view":"count","title":"Responses","figure":{"label":"x","nps":1,"responses":1234,"low_sample":false},"html":"<span data-num=\"1234\">"}]}`)
	if n, ok := countOf(msg); !ok || n != 1234 {
		t.Fatalf("countOf = %d, %v", n, ok)
	}
	if _, ok := countOf([]byte(`{"type":"heartbeat"}`)); ok {
		t.Fatal("a heartbeat has no count")
	}
	// v2: the count's data-num in its patch, or in its markup when whole;
	// never a later tile's.
	for msg, want := range map[string]int64{
		`{"type":"update","v":2,"tiles":[{"id":"nps","patch":[[7,"a","data-num","5"]]},{"id":"responses","patch":[[7,"a","data-num","1234"],[8,"t","1,234"]]}]}`:              1234,
		`{"type":"snapshot","v":2,"tiles":[{"id":"responses","html":"<section><span class="num" data-num="987">987</span></section>"},{"id":"x","html":"<b data-num="5">"}]}`: 987,
	} {
		if n, ok := countOf([]byte(msg)); !ok || n != want {
			t.Errorf("countOf(%s) = %d, %v; want %d", msg, n, ok, want)
		}
	}
	if n, ok := countOf([]byte(`{"type":"update","v":2,"tiles":[{"id":"responses","patch":[[11,"t","17% promoters"]]},{"id":"channels","patch":[[32,"a","data-num","-44"]]}]}`)); ok {
		t.Errorf("an update where the count did not change read as %d", n)
	}
}

func TestAckLogAndLatencies(t *testing.T) {
	var a ackLog
	t0 := time.Unix(1000, 0)
	a.add(10, t0)
	a.add(10, t0.Add(time.Second))
	if at, ok := a.when(15); !ok || !at.Equal(t0.Add(time.Second)) {
		t.Fatalf("when(15) = %v %v", at, ok)
	}
	if at, ok := a.when(10); !ok || !at.Equal(t0) {
		t.Fatalf("when(10) = %v %v", at, ok)
	}
	if _, ok := a.when(21); ok {
		t.Fatal("when(21) before it happened")
	}
	var l latencies
	for i := 1; i <= 100; i++ {
		l.add(time.Duration(i) * time.Millisecond)
	}
	if p := l.quantile(0.5); p != 51*time.Millisecond {
		t.Errorf("p50 = %s", p)
	}
	if p := l.quantile(0.99); p != 100*time.Millisecond {
		t.Errorf("p99 = %s", p)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	o := options{server: "http://example.com:8080", clients: 1, duration: time.Second, rate: 1, batch: 1, concurrency: 1, boards: 1, protocol: 2}
	if err := o.check(); err == nil {
		t.Fatal("a non-loopback server was accepted")
	}
	o.server = "http://127.0.0.1:8080"
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	o.clients = maxClients + 1
	if err := o.check(); err == nil {
		t.Fatal("too many clients accepted")
	}
}
