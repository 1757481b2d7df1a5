package csvimport

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
)

// now is the clock of every test: rows are validated against it.
var now = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

func opts() Options {
	return Options{Now: func() time.Time { return now }}
}

// readAll reads every row of a CSV text.
func readAll(t *testing.T, text string, o Options) []Row {
	t.Helper()
	rd, err := NewReader(strings.NewReader(text), o)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var rows []Row
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, row)
	}
}

func TestImportHeaderAliases(t *testing.T) {
	text := " Response_ID ,NPS Score,Source,segment,TEAM_NAME,agent-name,Verbatim,Tags,Created At,Unrelated\n" +
		"r1,9,phone,smb,billing,Ana Lima,fine,a;b| c,2026-11-20 10:00:00,whatever\n"
	rd, err := NewReader(strings.NewReader(text), opts())
	if err != nil {
		t.Fatal(err)
	}
	want := Mapping{"id": "Response_ID", "score": "NPS Score", "channel": "Source", "segment": "segment", "team": "TEAM_NAME",
		"agent": "agent-name", "comment": "Verbatim", "tags": "Tags", "at": "Created At"}
	if got := rd.Columns(); got.String() != want.String() {
		t.Fatalf("columns\n got %s\nwant %s", got, want)
	}
	if rd.DerivedIDs() {
		t.Fatal("ids derived despite an id column")
	}
	row, err := rd.Next()
	if err != nil || !row.Valid() {
		t.Fatalf("row: %v %v", err, row.Problems)
	}
	r := row.Response
	if r.ID != "r1" || r.Score != 9 || r.Dims.Channel != "phone" || r.Dims.Segment != "smb" || r.Dims.Team != "billing" ||
		r.Dims.Agent != "Ana Lima" || r.Comment != "fine" || !slices.Equal(r.Tags, []string{"a", "b", "c"}) ||
		!r.AtGiven || !r.At.Equal(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("response %+v", r)
	}
	if row.Line != 2 {
		t.Fatalf("line %d", row.Line)
	}
}

func TestImportHeaderMapping(t *testing.T) {
	header := "How likely?,Where,channel,rating,When\n"
	m, err := ParseMapping(" score = How likely? , CHANNEL=where")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Add("at=when"); err != nil {
		t.Fatal(err)
	}
	o := opts()
	o.Mapping = m
	rows := readAll(t, header+"7,email,phone,2,2026-11-22\n", o)
	if len(rows) != 1 || !rows[0].Valid() {
		t.Fatalf("rows %+v", rows)
	}
	// The mapping beats both the field's own name (channel) and the alias
	// (rating), which are then ignored.
	if r := rows[0].Response; r.Score != 7 || r.Dims.Channel != "email" || !r.At.Equal(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("response %+v", r)
	}

	for _, tc := range []struct{ header, mapping, want string }{
		{"nps,comment\n", "", "no channel column (looked for channel, source)"},
		{"channel,comment\n", "", "no score column (looked for score, nps, rating, nps_score)"},
		{"nps,rating,channel\n", "", `columns "nps", "rating" could all be score`},
		{"score,channel,Date,timestamp\n", "", "could all be at"},
		{"score,channel\n", "score=How likely", `no column "How likely"`},
		{"score,channel,x\n", "score=x,channel=x", `column "x" is mapped to both score and channel`},
		{"score,Score,channel\n", "", "could all be score"},
		{"", "", "empty"},
	} {
		m, err := ParseMapping(tc.mapping)
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewReader(strings.NewReader(tc.header), Options{Mapping: m})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("header %q, mapping %q: err %v, want %q", tc.header, tc.mapping, err, tc.want)
		}
	}
	var mf *MissingFieldError
	if _, err := NewReader(strings.NewReader("nps,comment\n"), Options{}); !errors.As(err, &mf) || mf.Field != "channel" {
		t.Errorf("missing channel: %v", err)
	}
	// The field's own name wins over an alias without ambiguity.
	rd, err := NewReader(strings.NewReader("score,nps,channel,source\n"), Options{})
	if err != nil || rd.Columns()["score"] != "score" || rd.Columns()["channel"] != "channel" {
		t.Errorf("own names: %v %v", rd.Columns(), err)
	}
	for _, bad := range []string{"score", "Colour!=x", "score=", "score=a,score=b"} {
		if _, err := ParseMapping(bad); err == nil {
			t.Errorf("ParseMapping(%q) accepted", bad)
		}
	}
	// colour could be a configured dimension; without one it is unknown.
	m, err = ParseMapping("colour=x")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(store.DefaultSchema()); err == nil || !strings.Contains(err.Error(), `unknown field "colour"`) {
		t.Errorf("Check(colour=x): %v", err)
	}
	if _, err := NewReader(strings.NewReader("score,channel,x\n"), Options{Mapping: m}); err == nil || !strings.Contains(err.Error(), `unknown field "colour"`) {
		t.Errorf("NewReader with colour=x: %v", err)
	}
}

func TestImportTimeFormats(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		in   string
		loc  *time.Location
		want time.Time
	}{
		{"2026-11-20T14:03:00Z", nil, utc("2026-11-20T14:03:00Z")},
		{"2026-11-20T14:03:00.123456Z", nil, utc("2026-11-20T14:03:00.123456Z")},
		{"2026-11-20T14:03:00+01:00", ny, utc("2026-11-20T13:03:00Z")}, // an offset beats the zone
		{"2026-11-20 14:03:00-05:00", nil, utc("2026-11-20T19:03:00Z")},
		{"2026-11-20 14:03:00", nil, utc("2026-11-20T14:03:00Z")},
		{"2026-11-20T14:03:00", nil, utc("2026-11-20T14:03:00Z")},
		{"2026-11-20 14:03", nil, utc("2026-11-20T14:03:00Z")},
		{"2026-11-20", nil, utc("2026-11-20T00:00:00Z")},
		{"11/20/2026 14:03", nil, utc("2026-11-20T14:03:00Z")},
		{"11/20/2026", nil, utc("2026-11-20T00:00:00Z")},
		{"20.11.2026 14:03", nil, utc("2026-11-20T14:03:00Z")},
		{"1795183380", nil, utc("2026-11-20T14:03:00Z")},
		{"999999999", nil, time.Unix(999999999, 0)},
		// Naive times in the center's zone: EST in November, EDT in July.
		{"2026-11-20 14:03:00", ny, utc("2026-11-20T19:03:00Z")},
		{"2026-07-01 09:30", ny, utc("2026-07-01T13:30:00Z")},
		{"07/01/2026", ny, utc("2026-07-01T04:00:00Z")},
		{"01.07.2026 09:30", ny, utc("2026-07-01T13:30:00Z")},
		{"1795183380", ny, utc("2026-11-20T14:03:00Z")}, // Unix time has no zone
	} {
		got, err := ParseTime(tc.in, tc.loc)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseTime(%q, %v) = %v, %v; want %v", tc.in, tc.loc, got, err, tc.want)
		}
	}
	for _, bad := range []string{"yesterday", "20261120", "123456789012", "2026-11-20T25:00:00Z", "13/20/2026", "2026/11/20", "1795183380000"} {
		if got, err := ParseTime(bad, nil); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", bad, got)
		}
	}

	// In rows: the zone applies, an empty time is the receive time.
	o := opts()
	o.Location = ny
	rows := readAll(t, "id,score,channel,at\n"+
		"a,9,phone,2026-11-20 09:00\n"+
		"b,9,phone,\n"+
		"c,9,phone,soon\n"+
		"d,9,phone,2026-11-23 10:06\n"+ // 15:06Z: 6 minutes ahead of now
		"e,9,phone,2025-01-01\n", o)
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	if r := rows[0].Response; !rows[0].Valid() || !r.AtGiven || !r.At.Equal(utc("2026-11-20T14:00:00Z")) {
		t.Errorf("row a: %+v %v", r, rows[0].Problems)
	}
	if r := rows[1].Response; !rows[1].Valid() || r.AtGiven || !r.At.Equal(now) {
		t.Errorf("row b: %+v %v", r, rows[1].Problems)
	}
	wantProblems := [][]string{
		nil, nil,
		{"line 4: at: must be a time such as 2025-01-31T09:30:00Z, 2025-01-31 09:30, 01/31/2025 or Unix seconds"},
		{"line 5: at: is in the future (more than 5m0s ahead of the server clock)"},
		{"line 6: at: is older than the 400-day retention"},
	}
	for i, want := range wantProblems {
		if !slices.Equal(rows[i].Problems, want) {
			t.Errorf("row %d problems %q, want %q", i, rows[i].Problems, want)
		}
	}
}

func TestImportDerivedIDs(t *testing.T) {
	text := "score,channel,team,comment,at\n" +
		"9,phone,billing,great,2026-11-20 10:00\n" +
		"9,phone,billing,great,2026-11-20 10:01\n" +
		"9,phone,billing, great ,2026-11-20 10:00\n" + // comments are trimmed for the id only
		"9,phone,billing,great,2026-11-20 10:00\n" // an identical row
	rows := readAll(t, text, opts())
	id := regexp.MustCompile(`^csv-[0-9a-f]{16}$`)
	for _, r := range rows {
		if !r.Valid() || !id.MatchString(r.Response.ID) {
			t.Fatalf("line %d: id %q, problems %v", r.Line, r.Response.ID, r.Problems)
		}
	}
	ids := func(rows []Row) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.Response.ID)
		}
		return out
	}
	got := ids(rows)
	if got[0] == got[1] || got[0] != got[2] || got[0] != got[3] {
		t.Fatalf("ids %v: want 1 != 0 == 2 == 3", got)
	}
	// Stable: the same file again, and the same columns in another order
	// with another column, give the same ids.
	if again := ids(readAll(t, text, opts())); !slices.Equal(again, got) {
		t.Fatalf("second read %v, first %v", again, got)
	}
	reordered := "at,Unused,comment,team,channel,score\n" +
		"2026-11-20 10:00,x,great,billing,phone,9\n" +
		"2026-11-20 10:01,y,great,billing,phone,9\n"
	if re := ids(readAll(t, reordered, opts())); !slices.Equal(re, got[:2]) {
		t.Fatalf("reordered %v, want %v", re, got[:2])
	}
	// Cells do not run together: "ab","c" is not "a","bc".
	a := readAll(t, "score,channel,team,segment\n1,phone,ab,c\n", opts())
	b := readAll(t, "score,channel,team,segment\n1,phone,a,bc\n", opts())
	if a[0].Response.ID == b[0].Response.ID {
		t.Fatal("ids ignore cell boundaries")
	}
	// Pinned, so a change of the recipe (which would double-count every
	// re-imported file) cannot go unnoticed.
	if got[0] != "csv-"+pinnedID {
		t.Fatalf("id %s, pinned csv-%s", got[0], pinnedID)
	}
}

// pinnedID is the derived id of the first row of TestImportDerivedIDs.
const pinnedID = "f7ddd0cf877cc92d"

func TestImportLineNumbers(t *testing.T) {
	text := "id,score,channel,comment\n" + // 1
		"a,9,phone,\"first line\n" + // 2
		"second line\n" + // 3
		"third, with \"\"quotes\"\"\"\n" + // 4
		"b,11,phone,short\n" + // 5
		"\n" + // 6: blank lines are skipped
		"c,x,\"multi\n" + // 7
		"line channel\",\"also\n" + // 8
		"multi\"\n" + // 9
		",,,\n" + // 10: all empty: skipped
		"d,5,email,bad \"quote\n" + // 11
		"e,5,email,ok\n" + // 12
		"f,5,email\n" + // 13
		"g,5,email,unquoted, comma\n" + // 14
		"h,5,email,trailing empty,,\n" // 15
	rows := readAll(t, text, opts())
	type want struct {
		line     int
		problems []string
	}
	wants := []want{
		{2, nil},
		{5, []string{"line 5: score: must be an integer from 0 to 10"}},
		{7, []string{"line 7: score: must be an integer from 0 to 10",
			"line 7: channel: may hold only ASCII letters, digits, spaces and -_.@"}},
		{11, []string{`line 11: bare " in non-quoted-field`}},
		{12, nil},
		{13, []string{"line 13: has 3 fields but the header has 4"}},
		{14, []string{`line 14: has 5 fields but the header has 4 (quote cells that contain ',')`}},
		{15, nil},
	}
	if len(rows) != len(wants) {
		for _, r := range rows {
			t.Logf("line %d: %v", r.Line, r.Problems)
		}
		t.Fatalf("%d rows, want %d", len(rows), len(wants))
	}
	for i, w := range wants {
		if rows[i].Line != w.line || !slices.Equal(rows[i].Problems, w.problems) {
			t.Errorf("row %d: line %d %q; want line %d %q", i, rows[i].Line, rows[i].Problems, w.line, w.problems)
		}
	}
	if c := rows[0].Response.Comment; c != "first line\nsecond line\nthird, with \"quotes\"" {
		t.Errorf("multi-line comment %q", c)
	}
}

func TestImportCells(t *testing.T) {
	// A byte order mark, spaces around cells, empty optional cells, tags.
	text := "\ufeffid,score,channel,segment,team,tags,comment\n" +
		" a , 7 , phone ,,, x ; y ;| ,  spaced  \n" +
		"b,,phone,,,,\n" +
		",5,,,,,\n"
	rows := readAll(t, text, opts())
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0].Response
	if !rows[0].Valid() || r.ID != "a" || r.Score != 7 || r.Dims.Channel != "phone" || r.Dims.Segment != "" ||
		!slices.Equal(r.Tags, []string{"x", "y"}) || r.Comment != "  spaced  " {
		t.Fatalf("row 1: %+v %v", r, rows[0].Problems)
	}
	if want := []string{"line 3: score: is required unless csat is given"}; !slices.Equal(rows[1].Problems, want) {
		t.Errorf("row 2: %q", rows[1].Problems)
	}
	if want := []string{"line 4: id: is required", "line 4: channel: is required"}; !slices.Equal(rows[2].Problems, want) {
		t.Errorf("row 3: %q", rows[2].Problems)
	}
	// Semicolon-separated files.
	o := opts()
	o.Comma = ';'
	rows = readAll(t, "score;channel\n8;chat\n", o)
	if len(rows) != 1 || !rows[0].Valid() || rows[0].Response.Score != 8 {
		t.Errorf("semicolons: %+v", rows)
	}
}

// rowSource generates a CSV of n rows without holding it.
type rowSource struct {
	n, i int
	buf  []byte
}

func (s *rowSource) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.i > s.n {
			return 0, io.EOF
		}
		if s.i == 0 {
			s.buf = []byte("score,channel,team,comment,at\n")
		} else {
			s.buf = fmt.Appendf(nil, "%d,phone,team%d,\"comment %d\nwith two lines\",2026-11-%02d 10:%02d\n", s.i%11, s.i%7, s.i, 1+s.i%20, s.i%60)
		}
		s.i++
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// TestImportStreaming reads many rows and checks that the reader keeps none.
func TestImportStreaming(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 20_000
	}
	rd, err := NewReader(&rowSource{n: n}, opts())
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rows, lastLine := 0, 0
	seen := 0
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !row.Valid() {
			t.Fatalf("line %d: %v", row.Line, row.Problems)
		}
		rows++
		lastLine = row.Line
		if rows == n/2 {
			runtime.GC()
			runtime.ReadMemStats(&after)
			seen = rows
		}
	}
	if rows != n || lastLine != 2*n {
		t.Fatalf("%d rows, last on line %d; want %d, %d", rows, lastLine, n, 2*n)
	}
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 4<<20 {
		t.Fatalf("heap grew by %d bytes after %d rows", grown, seen)
	}
	if off := rd.InputOffset(); off < int64(n)*40 {
		t.Fatalf("input offset %d", off)
	}
}

// TestImportVersion: a version column is read as the API's version, and a
// bad one names its line; derived ids ignore it, so a file keeps its ids.
func TestImportVersion(t *testing.T) {
	rows := readAll(t, "id,score,channel,version\na,9,phone,3\nb,7,phone,\nc,5,phone,0\n", opts())
	if len(rows) != 3 || rows[0].Response.Version != 3 || rows[1].Response.Version != 0 || len(rows[1].Problems) != 0 {
		t.Fatalf("rows %+v", rows)
	}
	if len(rows[2].Problems) != 1 || !strings.Contains(rows[2].Problems[0], "line 4: version: must be an integer from 1 to") {
		t.Errorf("version 0: %q", rows[2].Problems)
	}
	with := readAll(t, "score,channel,version\n9,phone,3\n", opts())
	without := readAll(t, "score,channel\n9,phone\n", opts())
	if with[0].Response.ID != without[0].Response.ID {
		t.Errorf("derived id changes with a version column: %s vs %s", with[0].Response.ID, without[0].Response.ID)
	}
}
