package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pulseboard/pulseboard/internal/api"
	"github.com/pulseboard/pulseboard/internal/store"
)

// ingestRecorder is a stand-in ingest API that keeps every response it
// receives in arrival order, and every body's size.
type ingestRecorder struct {
	mu        sync.Mutex
	responses []api.Response
	bodies    []int
}

func (rec *ingestRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var batch []api.Response
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, len(body)+1)
	for sc.Scan() {
		var resp api.Response
		if err := json.Unmarshal(sc.Bytes(), &resp); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		batch = append(batch, resp)
	}
	rec.mu.Lock()
	rec.responses = append(rec.responses, batch...)
	rec.bodies = append(rec.bodies, len(body))
	rec.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(api.Recorded{Accepted: len(batch)})
}

func TestShard(t *testing.T) {
	counts := make([]int, 4)
	for i := range 4000 {
		id := fmt.Sprintf("case-%d", i)
		n := shard(id, 4)
		if shard(id, 4) != n {
			t.Fatalf("%s moved", id)
		}
		counts[n]++
	}
	for i, n := range counts {
		if n < 800 || n > 1200 {
			t.Errorf("worker %d got %d of 4000 ids: %v", i, n, counts)
		}
	}
}

// TestSenderKeepsFileOrderPerID: with several workers and tiny batches,
// the versions of each id reach the server in the order of the file.
func TestSenderKeepsFileOrderPerID(t *testing.T) {
	rec := &ingestRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	o := Options{Server: srv.URL, HTTPClient: srv.Client(), Batch: 3, Workers: 4}.withDefaults()
	s := newSender(context.Background(), mustClient(t, o), o, newConsole(io.Discard))
	line := 2
	for round := range 10 {
		for i := range 30 {
			r := store.Response{ID: fmt.Sprintf("id-%d", i), Score: round, Dims: store.Dims{Channel: "phone"}}
			if err := s.add(line, r); err != nil {
				t.Fatal(err)
			}
			line++
		}
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if res, sent := s.totals(); sent != 300 || res.Accepted != 300 {
		t.Fatalf("totals %+v for %d rows", res, sent)
	}
	last := map[string]api.Score{}
	for _, r := range rec.responses {
		if prev, ok := last[r.ID]; ok && r.Score != prev+1 {
			t.Fatalf("%s: score %d arrived after %d", r.ID, r.Score, prev)
		}
		last[r.ID] = r.Score
	}
	if len(rec.responses) != 300 || len(last) != 30 {
		t.Fatalf("%d responses of %d ids arrived", len(rec.responses), len(last))
	}
}

// TestSenderSplitsLargeBatches: long comments end a batch before its row
// count, so no body comes near the server's 8 MiB limit.
func TestSenderSplitsLargeBatches(t *testing.T) {
	rec := &ingestRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	o := Options{Server: srv.URL, HTTPClient: srv.Client(), Batch: MaxBatch, Workers: 1}.withDefaults()
	s := newSender(context.Background(), mustClient(t, o), o, newConsole(io.Discard))
	// 1100 comments of 1999 two-byte runes: about 4.4 MB in all.
	comment := strings.Repeat("é", 1999)
	const n = 1100
	for i := range n {
		r := store.Response{ID: fmt.Sprintf("id-%d", i), Score: 9, Dims: store.Dims{Channel: "phone"}, Comment: comment}
		if err := s.add(i+2, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if len(rec.responses) != n || len(rec.bodies) < 2 {
		t.Fatalf("%d responses in %d bodies", len(rec.responses), len(rec.bodies))
	}
	for _, size := range rec.bodies {
		if size > maxBatchBytes {
			t.Errorf("a body of %d bytes, over %d", size, maxBatchBytes)
		}
	}
}

// TestSenderNamesLines: a failed batch is named by its file lines, and the
// first failure stops the rest.
func TestSenderNamesLines(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "not json")
	}))
	defer srv.Close()
	o := Options{Server: srv.URL, HTTPClient: srv.Client(), Batch: 2, Workers: 1}.withDefaults()
	s := newSender(context.Background(), mustClient(t, o), o, newConsole(io.Discard))
	for _, line := range []int{5, 8} {
		if err := s.add(line, store.Response{ID: "a", Score: 1, Dims: store.Dims{Channel: "phone"}}); err != nil {
			t.Fatal(err)
		}
	}
	err := s.close()
	if err == nil || !strings.HasPrefix(err.Error(), `lines 5-8: POST /api/v1/responses: unreadable reply "not json"`) {
		t.Fatalf("err %v", err)
	}
	if _, sent := s.totals(); sent != 0 {
		t.Fatalf("%d rows counted as sent", sent)
	}
}

// mustClient is the import's client for o.
func mustClient(t *testing.T, o Options) *apiClient {
	t.Helper()
	c, err := newClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
