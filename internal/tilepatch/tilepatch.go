// Package tilepatch computes the patch that turns one rendering of a
// tile's markup into the next, and applies one: the live protocol's v2
// updates (docs/PROTOCOL.md). A patch sets texts and attribute values of
// nodes the two renderings share; when their shapes differ (an element or
// text node more or less, another tag), there is no patch and the tile is
// sent whole.
//
// Nodes are addressed by their index in the tile's element and text nodes
// in document order (the tile's root element is 0), which is the order a
// browser's TreeWalker(SHOW_ELEMENT | SHOW_TEXT) visits them: no marker
// has to be added to the markup, so every text and attribute of every tile
// kind can be patched. Both ends parse the markup with the HTML standard's
// fragment parser (golang.org/x/net/html here, the browser's there), which
// is what makes the indexes agree; static/board.js's applier mirrors Apply.
package tilepatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Op kinds, as they appear on the wire.
const (
	SetText    = "t" // [node, "t", text]: the text node's data
	SetAttr    = "a" // [node, "a", name, value]: an element's attribute
	RemoveAttr = "r" // [node, "r", name]: an element's attribute removed
)

// Op is one entry of a patch. Its values are text and attribute values,
// never markup: a client sets them as data (Text.data, setAttribute).
type Op struct {
	Node  int
	Kind  string
	Name  string // SetAttr, RemoveAttr
	Value string // SetText, SetAttr
}

// MarshalJSON writes the op as a compact array.
func (o Op) MarshalJSON() ([]byte, error) {
	var parts []any
	switch o.Kind {
	case SetText:
		parts = []any{o.Node, o.Kind, o.Value}
	case SetAttr:
		parts = []any{o.Node, o.Kind, o.Name, o.Value}
	case RemoveAttr:
		parts = []any{o.Node, o.Kind, o.Name}
	default:
		return nil, fmt.Errorf("patch op: unknown kind %q", o.Kind)
	}
	return marshal(parts)
}

// UnmarshalJSON reads the array MarshalJSON writes.
func (o *Op) UnmarshalJSON(b []byte) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return fmt.Errorf("patch op: %w", err)
	}
	if len(parts) < 3 {
		return fmt.Errorf("patch op: %d elements, want 3 or 4", len(parts))
	}
	if err := json.Unmarshal(parts[0], &o.Node); err != nil {
		return fmt.Errorf("patch op node: %w", err)
	}
	if err := json.Unmarshal(parts[1], &o.Kind); err != nil {
		return fmt.Errorf("patch op kind: %w", err)
	}
	want := map[string]int{SetText: 3, SetAttr: 4, RemoveAttr: 3}[o.Kind]
	if want == 0 || len(parts) != want {
		return fmt.Errorf("patch op %q with %d elements", o.Kind, len(parts))
	}
	switch o.Kind {
	case SetText:
		return json.Unmarshal(parts[2], &o.Value)
	case SetAttr:
		if err := json.Unmarshal(parts[2], &o.Name); err != nil {
			return err
		}
		return json.Unmarshal(parts[3], &o.Value)
	default:
		return json.Unmarshal(parts[2], &o.Name)
	}
}

// Parse reads a tile's markup as a browser's template element does
// (board.js puts it in a template's innerHTML), and returns its first
// element: the tile's root.
func Parse(markup string) (*html.Node, error) {
	ctx := &html.Node{Type: html.ElementNode, Data: "template", DataAtom: atom.Template}
	nodes, err := html.ParseFragment(strings.NewReader(markup), ctx)
	if err != nil {
		return nil, fmt.Errorf("parse tile markup: %w", err)
	}
	for _, n := range nodes {
		if n.Type == html.ElementNode {
			return n, nil
		}
	}
	return nil, errors.New("parse tile markup: no element")
}

// Diff returns the ops that turn old into new, and false when the two
// differ in shape (then the tile goes whole). Equal trees give no ops.
func Diff(old, new *html.Node) ([]Op, bool) {
	var ops []Op
	next := 0
	if !diffNode(old, new, &next, &ops) {
		return nil, false
	}
	return ops, true
}

func diffNode(a, b *html.Node, next *int, ops *[]Op) bool {
	i := *next
	*next++
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case html.TextNode:
		if a.Data != b.Data {
			*ops = append(*ops, Op{Node: i, Kind: SetText, Value: b.Data})
		}
		return true // a text node has no children
	case html.ElementNode:
		if a.Data != b.Data || a.Namespace != b.Namespace || !diffAttrs(i, a.Attr, b.Attr, ops) {
			return false
		}
	default:
		return false // not addressable (a comment): never in a tile's markup
	}
	// Every child is compared, comments too: a patch cannot address them
	// (so a tile with one goes whole), and they must not differ unseen.
	ca, cb := a.FirstChild, b.FirstChild
	for ; ca != nil && cb != nil; ca, cb = ca.NextSibling, cb.NextSibling {
		if !diffNode(ca, cb, next, ops) {
			return false
		}
	}
	return ca == nil && cb == nil
}

// addressable skips from n to the first node a patch can address: an
// element or a text node (TreeWalker's SHOW_ELEMENT | SHOW_TEXT).
func addressable(n *html.Node) *html.Node {
	for n != nil && n.Type != html.ElementNode && n.Type != html.TextNode {
		n = n.NextSibling
	}
	return n
}

// diffAttrs appends the ops that turn attributes a into b. Namespaced
// attributes (xlink:href in SVG) and event handlers are never patched:
// the tile goes whole.
func diffAttrs(node int, a, b []html.Attribute, ops *[]Op) bool {
	for _, x := range b {
		if x.Namespace != "" {
			return false
		}
		if v, ok := attr(a, x.Key); !ok || v != x.Val {
			if unsafeAttr(x.Key) {
				return false
			}
			*ops = append(*ops, Op{Node: node, Kind: SetAttr, Name: x.Key, Value: x.Val})
		}
	}
	for _, x := range a {
		if x.Namespace != "" {
			return false
		}
		if _, ok := attr(b, x.Key); !ok {
			if unsafeAttr(x.Key) {
				return false
			}
			*ops = append(*ops, Op{Node: node, Kind: RemoveAttr, Name: x.Key})
		}
	}
	return true
}

func attr(as []html.Attribute, key string) (string, bool) {
	for _, x := range as {
		if x.Namespace == "" && x.Key == key {
			return x.Val, true
		}
	}
	return "", false
}

// unsafeAttr: an event handler's value is script, not data. The server
// never patches one and a client refuses to set one.
func unsafeAttr(name string) bool {
	return len(name) >= 2 && strings.EqualFold(name[:2], "on")
}

// Nodes lists a tile's addressable nodes in the order ops address them.
func Nodes(root *html.Node) []*html.Node {
	var out []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		out = append(out, n)
		for c := addressable(n.FirstChild); c != nil; c = addressable(c.NextSibling) {
			walk(c)
		}
	}
	walk(root)
	return out
}

// Apply applies a patch to a parsed tile, as static/board.js does to the
// page: it fails, leaving the ops before the failing one applied, on an op
// whose node is missing or of the wrong kind, or that sets an event
// handler. A client that fails asks for a snapshot.
func Apply(root *html.Node, ops []Op) error {
	nodes := Nodes(root)
	for k, o := range ops {
		if o.Node < 0 || o.Node >= len(nodes) {
			return fmt.Errorf("op %d: no node %d (the tile has %d)", k, o.Node, len(nodes))
		}
		n := nodes[o.Node]
		switch o.Kind {
		case SetText:
			if n.Type != html.TextNode {
				return fmt.Errorf("op %d: node %d is not text", k, o.Node)
			}
			n.Data = o.Value
		case SetAttr, RemoveAttr:
			if n.Type != html.ElementNode {
				return fmt.Errorf("op %d: node %d is not an element", k, o.Node)
			}
			if unsafeAttr(o.Name) {
				return fmt.Errorf("op %d: refused to set %q", k, o.Name)
			}
			setAttr(n, o)
		default:
			return fmt.Errorf("op %d: unknown kind %q", k, o.Kind)
		}
	}
	return nil
}

// setAttr changes an attribute in place, or appends a new one, as the
// DOM's setAttribute does; removeAttribute drops it.
func setAttr(n *html.Node, o Op) {
	for i, x := range n.Attr {
		if x.Namespace == "" && x.Key == o.Name {
			if o.Kind == RemoveAttr {
				n.Attr = append(n.Attr[:i], n.Attr[i+1:]...)
			} else {
				n.Attr[i].Val = o.Value
			}
			return
		}
	}
	if o.Kind == SetAttr {
		n.Attr = append(n.Attr, html.Attribute{Key: o.Name, Val: o.Value})
	}
}

// Marshal encodes v as JSON without escaping <, > and &: the frames go to
// a WebSocket, not into a page, and markup is full of them.
func Marshal(v any) ([]byte, error) { return marshal(v) }

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
