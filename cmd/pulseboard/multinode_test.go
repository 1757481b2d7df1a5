package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/redistest"
)

// TestThreeNodes runs three server processes on one Redis, and again on a
// three-master Redis Cluster. An answer posted to any node shows on a
// screen of every other node within a second, and all nodes then serve the
// same board.
func TestThreeNodes(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		threeNodes(t, []string{"PULSEBOARD_REDIS_URL=" + redistest.Private(t).URL})
	})
	t.Run("cluster", func(t *testing.T) {
		threeNodes(t, []string{"PULSEBOARD_REDIS_URL=" + redistest.ClusterURL(t), "PULSEBOARD_TENANT=" + redistest.Namespace(t)})
	})
}

func threeNodes(t *testing.T, env []string) {
	env = append(env, "PULSEBOARD_INGEST_TOKENS="+token)
	nodes := make([]*process, 3)
	screens := make([]*screen, 3)
	for i := range nodes {
		nodes[i] = startProcess(t, env)
		screens[i] = dial(t, nodes[i].addr, "floor")
		if _, err := screens[i].next(3 * time.Second); err != nil {
			t.Fatalf("node %d snapshot: %v", i, err)
		}
	}
	count := func(s *screen) int64 {
		if f := s.tiles["responses"].Figure; f != nil {
			return f.Responses
		}
		return 0
	}
	var worst time.Duration
	for round := range 6 {
		from := nodes[round%3]
		c := client{t: t, base: "http://" + from.addr}
		sent := time.Now()
		postOne(t, c, fmt.Sprintf("n%d", round), 10-round, "billing")
		for i, s := range screens {
			s.until(fmt.Sprintf("node %d shows answer %d", i, round+1), 2*time.Second, func() bool { return count(s) == int64(round+1) })
			if d := time.Since(sent); d > worst {
				worst = d
			}
		}
	}
	if worst > time.Second {
		t.Errorf("an answer took %s to reach a screen on another node (want ≤ 1 s)", worst)
	}
	t.Logf("worst post-to-screen delay across nodes: %s", worst)
	var first string
	for i, n := range nodes {
		c := client{t: t, base: "http://" + n.addr}
		r := c.get("/api/v1/nps?window=today&by=channel")
		if i == 0 {
			first = r.raw
		} else if r.raw != first {
			t.Errorf("node %d answers %s, node 0 %s", i, r.raw, first)
		}
	}
}
