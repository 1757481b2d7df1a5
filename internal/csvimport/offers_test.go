package csvimport

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/store"
)

// TestImportCSAT: a csat column (or csat_score) is read beside or instead of
// the score, and an offer_id column names the offer; a row with neither a
// score nor a csat cell is invalid, naming its line and the field.
func TestImportCSAT(t *testing.T) {
	text := "id,NPS,CSAT Score,offer_id,channel\n" +
		"r1,9,5,call-1,phone\n" +
		"r2,,2,call-2,email\n" +
		"r3,7,,,chat\n" +
		"r4,,,,chat\n" +
		"r5,,6,,chat\n"
	rows := readAll(t, text, opts())
	type want struct {
		score, csat int
		offer       string
	}
	for i, w := range []want{{9, 5, "call-1"}, {store.NoScore, 2, "call-2"}, {7, 0, ""}} {
		r := rows[i]
		if !r.Valid() || r.Response.Score != w.score || r.Response.CSAT != w.csat || r.Response.OfferID != w.offer {
			t.Errorf("line %d: %+v %v, want %+v", r.Line, r.Response, r.Problems, w)
		}
	}
	if p := rows[3].Problems; !slices.Equal(p, []string{"line 5: score: is required unless csat is given"}) {
		t.Errorf("neither: %q", p)
	}
	if p := rows[4].Problems; !slices.Equal(p, []string{"line 6: csat: must be an integer from 1 to 5"}) {
		t.Errorf("csat 6: %q", p)
	}
	// A file of CSAT answers needs no score column; one with neither
	// column is refused before any row.
	if rows := readAll(t, "id,csat,channel\nr1,4,phone\n", opts()); !rows[0].Valid() || rows[0].Response.Score != store.NoScore {
		t.Errorf("csat-only file: %+v", rows[0])
	}
	_, err := NewReader(strings.NewReader("id,channel\nr1,phone\n"), opts())
	var mf *MissingFieldError
	if !errors.As(err, &mf) || mf.Field != "score" {
		t.Errorf("no score, no csat: %v", err)
	}
	// The derived id of a file without the new columns is unchanged.
	if rows := readAll(t, "score,channel,team,comment,at\n9,phone,billing,great,2026-11-20 10:00\n", opts()); rows[0].Response.ID != "csv-"+pinnedID {
		t.Errorf("derived id %s, pinned csv-%s", rows[0].Response.ID, pinnedID)
	}
}

// TestImportOffers: with Kind offer, rows are offers: id, channel and the
// other dimensions, at and version; a score column is ignored (an offer has
// none), only channel must have a column, and a mapping may name only an
// offer's fields.
func TestImportOffers(t *testing.T) {
	schema, err := store.NewSchema("region")
	if err != nil {
		t.Fatal(err)
	}
	o := opts()
	o.Kind = store.KindOffer
	o.Limits.Schema = schema
	text := "Interaction,Source,Team,region,created_at,score\n" +
		"call-1,phone,billing,north,2026-11-23 14:00,9\n" +
		"call-2,email,,,2026-11-23 14:05,\n" +
		"call-3,a/b,,,,\n"
	o.Mapping = Mapping{"id": "Interaction"}
	rows := readAll(t, text, o)
	if len(rows) != 3 {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0].Response
	if !rows[0].Valid() || r.Kind != store.KindOffer || r.ID != "call-1" || r.Dims.Channel != "phone" || r.Dims.Team != "billing" ||
		r.Dims.Get("region") != "north" || r.Score != store.NoScore || !r.AtGiven || r.At.Format("15:04") != "14:00" {
		t.Errorf("line 2: %+v %v", r, rows[0].Problems)
	}
	if !rows[1].Valid() || rows[1].Response.ID != "call-2" || rows[1].Response.Kind != store.KindOffer {
		t.Errorf("line 3: %+v %v", rows[1].Response, rows[1].Problems)
	}
	if p := rows[2].Problems; len(p) != 1 || !strings.HasPrefix(p[0], "line 4: channel: may hold only") {
		t.Errorf("line 4: %q", p)
	}
	if _, err := NewReader(strings.NewReader("Interaction,team\ncall-1,billing\n"), o); err == nil || !strings.Contains(err.Error(), "no channel column") {
		t.Errorf("offers without channel: %v", err)
	}
	o.Mapping = Mapping{"score": "score"}
	if _, err := NewReader(strings.NewReader(text), o); err == nil || !strings.Contains(err.Error(), `unknown field "score"`) {
		t.Errorf("offer mapping a score: %v", err)
	}
	// Derived offer ids are stable across reads.
	o.Mapping = nil
	a := readAll(t, "channel,team\nphone,billing\n", o)
	b := readAll(t, "team,channel\nbilling,phone\n", o)
	if !a[0].Valid() || a[0].Response.ID != b[0].Response.ID || !strings.HasPrefix(a[0].Response.ID, "csv-") {
		t.Errorf("derived offer ids %q and %q", a[0].Response.ID, b[0].Response.ID)
	}
}
