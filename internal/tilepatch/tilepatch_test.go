package tilepatch

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

func mustParse(t *testing.T, markup string) *html.Node {
	t.Helper()
	n, err := Parse(markup)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func render(t *testing.T, n *html.Node) string {
	t.Helper()
	var b strings.Builder
	if err := html.Render(&b, n); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Ops address element and text nodes in document order, the root 0;
// texts go as text, attributes as values, whatever they hold.
func TestDiffAddressesNodesInDocumentOrder(t *testing.T) {
	old := `<section id="tile-a"><h2>Title</h2><span class="n" data-num="1">n=<b>1</b></span><i hidden>x</i></section>`
	new := `<section id="tile-a"><h2>Title</h2><span class="n big" data-num="2">n=<b>&lt;2&gt; &amp; &#34;</b></span><i>x</i></section>`
	ops, ok := Diff(mustParse(t, old), mustParse(t, new))
	if !ok {
		t.Fatal("same shape, no patch")
	}
	// 0 section, 1 h2, 2 "Title", 3 span, 4 "n=", 5 b, 6 text, 7 i, 8 "x"
	want := []Op{
		{Node: 3, Kind: SetAttr, Name: "class", Value: "n big"},
		{Node: 3, Kind: SetAttr, Name: "data-num", Value: "2"},
		{Node: 6, Kind: SetText, Value: `<2> & "`},
		{Node: 7, Kind: RemoveAttr, Name: "hidden"},
	}
	if !reflect.DeepEqual(ops, want) {
		t.Fatalf("ops %+v\nwant %+v", ops, want)
	}
	data, err := Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data); got != `[[3,"a","class","n big"],[3,"a","data-num","2"],[6,"t","<2> & \""],[7,"r","hidden"]]` {
		t.Fatalf("on the wire: %s", got)
	}
	var back []Op
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, want) {
		t.Fatalf("read back %+v, %v", back, err)
	}
	root := mustParse(t, old)
	if err := Apply(root, back); err != nil {
		t.Fatal(err)
	}
	if got, want := render(t, root), `<section id="tile-a"><h2>Title</h2><span class="n big" data-num="2">n=<b>&lt;2&gt; &amp; &#34;</b></span><i>x</i></section>`; got != want {
		t.Fatalf("applied:\n got %s\nwant %s", got, want)
	}
}

// A change of shape has no patch: the tile goes whole.
func TestDiffRefusesAnotherShape(t *testing.T) {
	base := `<section><ol><li>a</li><li>b</li></ol><p>x</p></section>`
	for name, other := range map[string]string{
		"a row more":        `<section><ol><li>a</li><li>b</li><li>c</li></ol><p>x</p></section>`,
		"a row less":        `<section><ol><li>a</li></ol><p>x</p></section>`,
		"another tag":       `<section><ol><li>a</li><li>b</li></ol><div>x</div></section>`,
		"a text node less":  `<section><ol><li>a</li><li></li></ol><p>x</p></section>`,
		"text to element":   `<section><ol><li>a</li><li><b>b</b></li></ol><p>x</p></section>`,
		"an event handler":  `<section onclick="x()"><ol><li>a</li><li>b</li></ol><p>x</p></section>`,
		"a comment":         `<section><ol><li>a</li><li>b</li></ol><!-- c --><p>x</p></section>`,
		"an svg namespaced": `<section><ol><li>a</li><li>b</li></ol><p>x</p><svg><use xlink:href="#a"></use></svg></section>`,
	} {
		if _, ok := Diff(mustParse(t, base), mustParse(t, other)); ok {
			t.Errorf("%s: patched", name)
		}
	}
	if ops, ok := Diff(mustParse(t, base), mustParse(t, base)); !ok || len(ops) != 0 {
		t.Errorf("the same markup: %v, %v; want no ops", ops, ok)
	}
}

// Apply fails, as board.js does, on an op that does not fit the tile,
// and refuses to set an event handler.
func TestApplyRefusesWhatDoesNotFit(t *testing.T) {
	for name, op := range map[string]Op{
		"no such node":     {Node: 9, Kind: SetText, Value: "x"},
		"negative node":    {Node: -1, Kind: SetText, Value: "x"},
		"text on element":  {Node: 0, Kind: SetText, Value: "x"},
		"attr on text":     {Node: 2, Kind: SetAttr, Name: "class", Value: "x"},
		"event handler":    {Node: 1, Kind: SetAttr, Name: "OnClick", Value: "x()"},
		"unknown kind":     {Node: 1, Kind: "x"},
		"remove on a text": {Node: 2, Kind: RemoveAttr, Name: "class"},
	} {
		if err := Apply(mustParse(t, `<section><h2>t</h2></section>`), []Op{op}); err == nil {
			t.Errorf("%s: applied", name)
		}
	}
	for _, bad := range []string{`[1]`, `[1,"t"]`, `[1,"a","x"]`, `[1,"t","a","b"]`, `["1","t","a"]`, `[1,"z","a"]`, `{}`} {
		var o Op
		if err := json.Unmarshal([]byte(bad), &o); err == nil {
			t.Errorf("%s read as %+v", bad, o)
		}
	}
}

// SVG attributes keep their case (viewBox), as a browser's parser gives
// them, and the fragment is parsed as a template's content.
func TestParseAsATemplateDoes(t *testing.T) {
	a := mustParse(t, "<section><svg viewBox=\"0 0 10 10\"><polyline points=\"1,2\"></polyline></svg><p>a\r\nb\x00</p></section>")
	b := mustParse(t, "<section><svg viewBox=\"0 0 10 20\"><polyline points=\"3,4\"></polyline></svg><p>c</p></section>")
	ops, ok := Diff(a, b)
	if !ok {
		t.Fatal("no patch")
	}
	want := []Op{
		{Node: 1, Kind: SetAttr, Name: "viewBox", Value: "0 0 10 20"},
		{Node: 2, Kind: SetAttr, Name: "points", Value: "3,4"},
		{Node: 4, Kind: SetText, Value: "c"},
	}
	if !reflect.DeepEqual(ops, want) {
		t.Fatalf("ops %+v, want %+v", ops, want)
	}
	// The parser turned CR LF into LF and dropped the NUL, as a browser does.
	if got := Nodes(a)[4].Data; got != "a\nb" {
		t.Fatalf("text %q, want %q", got, "a\nb")
	}
}

// canonical writes a tree with attributes sorted: equal DOMs, equal text.
func canonical(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(strconv.Quote(n.Data))
			return
		case html.ElementNode:
			attrs := slices.Clone(n.Attr)
			slices.SortFunc(attrs, func(a, b html.Attribute) int { return strings.Compare(a.Namespace+":"+a.Key, b.Namespace+":"+b.Key) })
			b.WriteString("<" + n.Namespace + ":" + n.Data)
			for _, a := range attrs {
				b.WriteString(" " + a.Namespace + ":" + a.Key + "=" + strconv.Quote(a.Val))
			}
			b.WriteString(">")
		default:
			b.WriteString("#")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		b.WriteString("</>")
	}
	walk(n)
	return b.String()
}

// Whatever two markups are, a patch Diff gives turns the first into the
// second (through the wire's JSON), and applying it never fails.
func FuzzDiffApply(f *testing.F) {
	f.Add(`<section><span data-num="1">+1</span><b>x</b></section>`, `<section><span data-num="2" class="c">−2</span><b>y</b></section>`)
	f.Add(`<section><svg viewBox="0 0 1 1"><circle cx="1"></circle></svg>a</section>`, `<section><svg viewBox="0 0 2 2"><circle cx="2"></circle></svg>b</section>`)
	f.Add("<section><p>a\r\nb</p><p hidden>x</p></section>", "<section><p>&lt;script&gt;\x00</p><p>y</p></section>")
	f.Add(`<section><table><tr><td>1</td></tr></table></section>`, `<section><table><tr><td>2</td></tr></table></section>`)
	f.Fuzz(func(t *testing.T, a, b string) {
		// Markup reaches a client inside JSON, which replaces invalid
		// UTF-8 in a whole tile as in a patch.
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		old, err1 := Parse(a)
		new, err2 := Parse(b)
		if err1 != nil || err2 != nil {
			return
		}
		ops, ok := Diff(old, new)
		if !ok {
			return
		}
		data, err := Marshal(ops)
		if err != nil {
			t.Fatal(err)
		}
		var back []Op
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if err := Apply(old, back); err != nil {
			t.Fatal(err)
		}
		if got, want := canonical(old), canonical(new); got != want {
			t.Fatalf("patched\n%s\nwant\n%s", got, want)
		}
	})
}
