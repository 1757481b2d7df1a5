package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/pkg/client"
)

// TestClientTypesMatchTheServer: the Go client (pkg/client) defines its
// own types for the answers of the read endpoints, since a public package
// cannot hand out the server's internal ones. This is what keeps the two
// from drifting: each server type, with every field set, encodes to JSON
// that the client's type reads without an unknown field and writes back
// the same; and the other way round, so the client has no field the
// server does not send.
func TestClientTypesMatchTheServer(t *testing.T) {
	for _, tc := range []struct {
		name           string
		server, client any
	}{
		{"GET /api/v1/nps", &npsAnswer{}, &client.NPS{}},
		{"GET /api/v1/boards/{name}", &boardAnswer{}, &client.Board{}},
		{"GET /api/v1/boards: a board", &boardSummary{}, &client.BoardSummary{}},
		{"GET /api/v1/boards: a template", &templateSummary{}, &client.TemplateSummary{}},
		{"GET /api/v1/me", &me{}, &client.Me{}},
		{"GET /api/v1/followups: a queue", &queueView{}, &client.Queue{}},
		{"GET /api/v1/followups: an item; reassign", &alert.Item{}, &client.FollowUpItem{}},
		{"claim, resolve", &alert.FollowUp{}, &client.FollowUp{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roundTrip(t, "server → client", tc.server, tc.client)
			roundTrip(t, "client → server", tc.client, tc.server)
		})
	}
}

// roundTrip fills from with every field set, reads its JSON strictly into
// a fresh value of to's type and checks that this writes the same JSON.
func roundTrip(t *testing.T, dir string, from, to any) {
	t.Helper()
	fill(reflect.ValueOf(from).Elem(), new(int))
	want, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	into := reflect.New(reflect.TypeOf(to).Elem()).Interface()
	dec := json.NewDecoder(bytes.NewReader(want))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("%s: %v\n%s", dir, err, want)
	}
	got, err := json.Marshal(into)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	_ = json.Unmarshal(want, &a)
	_ = json.Unmarshal(got, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%s: the JSON changed on the way\nsent %s\nread %s", dir, want, got)
	}
}

// fill sets every exported field of v, recursively, to a value of its own
// (n counts them), so no field is left out as empty.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + string(rune('a'+*n%26)))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint64:
		v.SetUint(uint64(*n))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), n)
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), n)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, n)
		fill(e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 2, 14, 0, *n%60, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	}
}
