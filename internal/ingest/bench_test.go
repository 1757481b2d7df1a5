package ingest

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecode decodes a batch of 1000 typical responses, as JSON and
// as NDJSON: the ingest path's CPU cost before the store.
func BenchmarkDecode(b *testing.B) {
	lines := make([]string, 1000)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"id":"case-%d","score":%d,"channel":"phone","segment":"smb","team":"billing","agent":"Ana Lima","comment":"Sorted in one call","tags":["vip"]}`, i, i%11)
	}
	for _, c := range []struct{ ct, body string }{
		{TypeJSON, "[" + strings.Join(lines, ",") + "]"},
		{TypeNDJSON, strings.Join(lines, "\n")},
	} {
		b.Run(c.ct, func(b *testing.B) {
			d := NewDecoder(Options{})
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Decode(strings.NewReader(c.body), c.ct, testNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
