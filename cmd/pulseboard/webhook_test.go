package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// webhookTestdata is the webhook package's recorded payloads and mapping.
var webhookTestdata = filepath.Join("..", "..", "internal", "webhook", "testdata")

const testWebhookSecret = "test-webhook-secret-0123"

// TestWebhookOlderVersionIsStale: survey tools retry and replay. A
// Delighted "created" delivered after the "updated" of the same answer, or
// an AskNicely webhook with a lower count, must not put the old score back;
// on both engines, through the HTTP routes.
func TestWebhookOlderVersionIsStale(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(webhookTestdata, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	created, updated := read("delighted_created.json"), read("delighted_updated.json")
	submitted, changed := read("asknicely_submitted.json"), read("asknicely_updated.json")
	for name, args := range engines(t) {
		t.Run(name, func(t *testing.T) {
			clock := &storetest.Clock{}
			clock.Set(storetest.Start)
			m := start(t, clock, append([]string{"--webhook-secret", testWebhookSecret,
				"--webhooks", filepath.Join(webhookTestdata, "webhooks.yaml")}, args...)...)
			c := client{t: t, base: "http://" + m.Addr()}
			delighted := func(body []byte) reply {
				mac := hmac.New(sha256.New, []byte(testWebhookSecret))
				mac.Write(body)
				return c.hook("/api/v1/webhooks/delighted", body, "X-Delighted-Webhook-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
			}
			asknicely := func(body []byte) reply {
				return c.hook("/api/v1/webhooks/asknicely", body, "X-Pulseboard-Secret", testWebhookSecret)
			}
			want := func(what string, r reply, result string) {
				t.Helper()
				if r.status != 202 || r.body[result] != float64(1) {
					t.Fatalf("%s: %d %s, want 202 with %s 1", what, r.status, r.raw, result)
				}
			}
			// Delighted: the update arrives first, then the retried create.
			want("delighted updated", delighted(updated), "accepted")
			want("delighted created, late", delighted(created), "stale")
			want("delighted updated, replayed", delighted(updated), "duplicates")
			// AskNicely: count 2 (score 8) before count 1 (score 4).
			want("asknicely count 2", asknicely(changed), "accepted")
			want("asknicely count 1, late", asknicely(submitted), "stale")
			// 9 and 8: one promoter, one passive; the 6 and the 4 never
			// came back.
			if n, score := c.overall("window=24h"); n != 2 || score != float64(50) {
				t.Fatalf("after late deliveries: %v responses, NPS %v; want 2 and 50", n, score)
			}
			// API clients give the version themselves, in JSON and NDJSON.
			want("api version 2", c.post(`{"id":"api-1","score":10,"channel":"web","version":2}`, "application/json"), "accepted")
			want("api version 1, late", c.post(`{"id":"api-1","score":0,"channel":"web","version":1}`+"\n", "application/x-ndjson"), "stale")
			if n, score := c.overall("window=24h"); n != 3 || score != 66.67 {
				t.Fatalf("after the API's late version: %v responses, NPS %v; want 3 and 66.67 (two promoters, one passive)", n, score)
			}
		})
	}
}

// hook posts a webhook delivery with its authentication header.
func (c client) hook(path string, body []byte, header, value string) reply {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(header, value)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// TestWebhookSecretPerAdapter: with its own secret (secret_env in the
// webhooks file), Delighted's HMAC key is not the secret AskNicely's
// requests carry in a header, so one leaked AskNicely request cannot forge
// Delighted deliveries.
func TestWebhookSecretPerAdapter(t *testing.T) {
	const dKey, aKey = "delighted-hmac-key-0123", "asknicely-secret-0123"
	t.Setenv("TEST_PB_DELIGHTED_SECRET", dKey)
	t.Setenv("TEST_PB_ASKNICELY_SECRET", aKey)
	file := filepath.Join(t.TempDir(), "webhooks.yaml")
	yaml := "delighted: {secret_env: TEST_PB_DELIGHTED_SECRET}\nasknicely: {secret_env: TEST_PB_ASKNICELY_SECRET}\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	m := start(t, clock, "--webhooks", file)
	c := client{t: t, base: "http://" + m.Addr()}
	body, err := os.ReadFile(filepath.Join(webhookTestdata, "delighted_created.json"))
	if err != nil {
		t.Fatal(err)
	}
	sig := func(key string) string {
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write(body)
		return "sha256=" + hex.EncodeToString(mac.Sum(nil))
	}
	if r := c.hook("/api/v1/webhooks/delighted", body, "X-Delighted-Webhook-Signature", sig(aKey)); r.status != 401 {
		t.Errorf("delighted signed with asknicely's secret: %d %s", r.status, r.raw)
	}
	if r := c.hook("/api/v1/webhooks/delighted", body, "X-Delighted-Webhook-Signature", sig(dKey)); r.status != 202 {
		t.Errorf("delighted signed with its own key: %d %s", r.status, r.raw)
	}
	asked, err := os.ReadFile(filepath.Join(webhookTestdata, "asknicely_submitted.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.hook("/api/v1/webhooks/asknicely", asked, "X-Pulseboard-Secret", aKey); r.status != 202 {
		t.Errorf("asknicely with its own secret: %d %s", r.status, r.raw)
	}
}
