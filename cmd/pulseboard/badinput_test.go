package main

import (
	"strings"
	"testing"
	"time"
)

// TestBadInput sends every kind of bad input the ingest API can get, each
// next to a valid response, and checks the status, the problem body and
// that nothing at all was recorded, on both engines.
func TestBadInput(t *testing.T) {
	valid := `{"id":"good-1","score":9,"channel":"phone"}`
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	cases := []struct {
		name, contentType, token, body string
		status                         int
		field, reason                  string
	}{
		{"malformed JSON", "application/json", token, `[` + valid + `,{"id":`, 400, "", "invalid JSON at byte"},
		{"score as a string", "application/json", token, `[` + valid + `,{"id":"b","score":"7","channel":"phone"}]`, 422, "score", "must be an integer"},
		{"id as a number", "application/json", token, `[` + valid + `,{"id":5,"score":7,"channel":"phone"}]`, 422, "id", "must be a string"},
		{"score 11", "application/json", token, `[` + valid + `,{"id":"b","score":11,"channel":"phone"}]`, 422, "score", "0 to 10"},
		{"score -1", "application/json", token, `[` + valid + `,{"id":"b","score":-1,"channel":"phone"}]`, 422, "score", "0 to 10"},
		{"score 7.5", "application/json", token, `[` + valid + `,{"id":"b","score":7.5,"channel":"phone"}]`, 422, "score", "integer"},
		{"empty id", "application/json", token, `[` + valid + `,{"id":"","score":7,"channel":"phone"}]`, 422, "id", ""},
		{"129-character id", "application/json", token, `[` + valid + `,{"id":"` + strings.Repeat("x", 129) + `","score":7,"channel":"phone"}]`, 422, "id", "128"},
		{"future at", "application/json", token, `[` + valid + `,{"id":"b","score":7,"channel":"phone","at":"` + future + `"}]`, 422, "at", "future"},
		{"unknown field", "application/json", token, `[` + valid + `,{"id":"b","score":7,"channel":"phone","colour":"red"}]`, 422, "colour", "unknown field"},
		{"missing channel", "application/json", token, `[` + valid + `,{"id":"b","score":7}]`, 422, "channel", "required"},
		{"bad NDJSON line", "application/x-ndjson", token, valid + "\n{not json}\n", 400, "", "line 2: invalid JSON at column 2"},
		{"NDJSON line cut short", "application/x-ndjson", token, valid + "\n" + `{"id":"b","score":7`, 400, "", "line 2: invalid JSON"},
		{"trailing garbage", "application/json", token, valid + " }", 400, "", "unexpected data after the JSON value"},
		{"valid JSON that is not an object", "application/json", token, `[` + valid + `,7]`, 422, "", "must be a JSON object"},
		{"empty body", "application/json", token, ``, 422, "", "no responses"},
		{"oversize body", "application/json", token, `[` + valid + `,{"id":"b","score":7,"channel":"phone","comment":"` + strings.Repeat("a", 9<<20) + `"}]`, 413, "", ""},
		{"10,001 items", "application/json", token, `[` + strings.Repeat(valid+",", 10_000) + valid + `]`, 413, "", ""},
		{"wrong content type", "text/plain", token, valid, 415, "", ""},
		{"missing token", "application/json", "", valid, 401, "", ""},
		{"wrong token", "application/json", "not-the-token-0123456789", valid, 401, "", ""},
	}
	for name, args := range engines(t) {
		t.Run(name, func(t *testing.T) {
			_, c := startNow(t, args...)
			for _, tc := range cases {
				r := c.do("POST", "/api/v1/responses", tc.contentType, tc.token, strings.NewReader(tc.body))
				if r.status != tc.status {
					t.Errorf("%s: status %d, want %d: %.300s", tc.name, r.status, tc.status, r.raw)
					continue
				}
				if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("%s: content type %q", tc.name, ct)
				}
				if r.body["status"] != float64(tc.status) || r.body["title"] == nil || r.body["detail"] == nil || r.body["type"] == nil {
					t.Errorf("%s: problem body %.300s", tc.name, r.raw)
				}
				// 400: the syntax is wrong, and where is said; 422: the
				// JSON is fine, its meaning is not.
				if tc.status != 422 && tc.status != 400 {
					continue
				}
				errs, _ := r.body["errors"].([]any)
				// A body with no items at all has nothing to point at: the
				// detail says why.
				detail, _ := r.body["detail"].(string)
				found := tc.field == "" && tc.reason != "" && strings.Contains(detail, tc.reason)
				for _, e := range errs {
					e := e.(map[string]any)
					field, _ := e["field"].(string)
					reason, _ := e["reason"].(string)
					if field == tc.field && strings.Contains(reason, tc.reason) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: no error with field %q and reason %q in %.400s", tc.name, tc.field, tc.reason, r.raw)
				}
			}
			// Not one of those batches was recorded, not even its valid item.
			if n, _ := c.overall("window=30d"); n != 0 {
				t.Fatalf("bad batches recorded %v responses", n)
			}
			// And the valid item alone is accepted.
			if r := c.post(valid, "application/json"); r.status != 202 {
				t.Fatalf("the valid item alone: %d %s", r.status, r.raw)
			}
			if n, _ := c.overall("window=30d"); n != 1 {
				t.Fatalf("after one valid response: %v", n)
			}
		})
	}
}
