package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// TestConfiguredDimensions: with region configured, ingest takes it as a
// top-level field and GET /api/v1/nps breaks down by journey and filters by
// region; a dimension nobody configured is refused with the configured ones
// named, at ingest (422) and in a query (400).
func TestConfiguredDimensions(t *testing.T) {
	schema, err := store.NewSchema("region")
	if err != nil {
		t.Fatal(err)
	}
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	opts := storetest.Options(t, clock)
	opts.Schema = schema
	for _, name := range []string{"region", "journey+region"} {
		r, err := schema.ParseRollup(name)
		if err != nil {
			t.Fatal(err)
		}
		opts.Rollups = append(opts.Rollups, r)
	}
	s := memstore.New(opts)
	t.Cleanup(func() { s.Close() })
	const token = "test-ingest-token-0123"
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{
		Recorder: s, Querier: s, Pinger: s, PublicBoards: true,
		Decoder:      ingest.NewDecoder(ingest.Options{Schema: schema}),
		IngestTokens: auth.NewTokens(token),
		Calendar:     opts.Calendar, Schema: schema, Rollups: opts.Rollups,
		MaxBodyBytes: 1 << 20, IngestRate: 1000, IngestBurst: 100,
		Now: clock.Now,
	}))
	t.Cleanup(srv.Close)
	post := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/responses", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	get := func(query string) (int, string) {
		res, err := http.Get(srv.URL + "/api/v1/nps?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := post(`[{"id":"1","score":10,"channel":"phone","journey":"pharma","region":"north"},
		{"id":"2","score":0,"channel":"phone","journey":"pharma","region":"south"},
		{"id":"3","score":9,"channel":"chat","journey":"new order","region":"north"}]`); code != http.StatusAccepted {
		t.Fatalf("ingest: %d %s", code, body)
	}
	code, body := get("window=1h&by=journey&region=north")
	if code != http.StatusOK {
		t.Fatalf("query: %d %s", code, body)
	}
	var ans struct {
		Groups []struct {
			Key       map[string]string `json:"key"`
			Responses int               `json:"responses"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, g := range ans.Groups {
		got[g.Key["journey"]] = g.Responses
	}
	if len(got) != 2 || got["pharma"] != 1 || got["new order"] != 1 {
		t.Errorf("by journey in the north: %s", body)
	}
	if code, body := get("window=1h&by=region"); code != http.StatusOK || !strings.Contains(body, `"region":"south"`) {
		t.Errorf("by region: %d %s", code, body)
	}
	if code, body := get("window=1h&queue=vip"); code != http.StatusBadRequest ||
		!strings.Contains(body, `unknown query parameter \"queue\" (want window, from, to, format, by, or a filter: channel, segment, journey, team, agent, region)`) {
		t.Errorf("unknown filter: %d %s", code, body)
	}
	if code, body := get("window=1h&by=queue"); code != http.StatusBadRequest || !strings.Contains(body, `unknown dimension \"queue\"`) {
		t.Errorf("unknown by: %d %s", code, body)
	}
	if code, body := post(`{"id":"4","score":10,"channel":"phone","queue":"vip"}`); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, `"field":"queue"`) || !strings.Contains(body, "unknown field") {
		t.Errorf("unknown field at ingest: %d %s", code, body)
	}
}
