package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/net/html"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/tilepatch"
)

// Protocol versions a screen may speak, named by the socket address's v
// parameter (docs/PROTOCOL.md). They share the board's epoch and seq: a
// board has one history, told to each screen in its own version.
const (
	// ProtocolV1 sends every changed tile whole, view model and markup
	// (deprecated: kept for screens of the release before v2).
	ProtocolV1 = 1
	// ProtocolV2 sends the markup on a snapshot and, in an update, only
	// the texts and attribute values that changed (package tilepatch).
	ProtocolV2 = 2
	// versions bounds arrays indexed by version (index 0 unused).
	versions = 3
)

// ErrBadVersion means the socket address asked for a protocol version
// this server does not speak.
var ErrBadVersion = errors.New("unknown protocol version")

// versionOf reads the protocol version a screen asks for: the v query
// parameter of its socket address, 1 when absent (screens of the release
// before v2 do not send it).
func versionOf(r *http.Request) (int, error) {
	q := r.URL.Query()
	switch vs := q["v"]; {
	case len(vs) == 0:
		return ProtocolV1, nil
	case len(vs) > 1:
		return 0, fmt.Errorf("%w: query parameter v is given %d times; give it once, 1 or 2", ErrBadVersion, len(vs))
	case vs[0] == "1":
		return ProtocolV1, nil
	case vs[0] == "2":
		return ProtocolV2, nil
	default:
		return 0, fmt.Errorf("%w: query parameter v is %.20q; this server speaks 1 and 2", ErrBadVersion, vs[0])
	}
}

// tileState is one tile as published, in each version's encoding.
type tileState struct {
	v1   []byte // view model and markup
	v2   []byte // {"id", "html"}: the tile whole in v2
	html string
	// tree is html parsed, kept for the next publish's patch; nil until a
	// patch needed it.
	tree *html.Node
}

// wire is the tile whole in a protocol version.
func (t *tileState) wire(ver int) json.RawMessage {
	if ver == ProtocolV2 {
		return t.v2
	}
	return t.v1
}

// wireTile is a tile on the wire in v1: the view model and, for browsers,
// its server-rendered markup.
type wireTile struct {
	board.TileView
	HTML string `json:"html,omitempty"`
}

// v2Tile is a tile on the wire in v2: whole (html) or patched (patch).
type v2Tile struct {
	ID    string         `json:"id"`
	HTML  string         `json:"html,omitempty"`
	Patch []tilepatch.Op `json:"patch,omitempty"`
}

func encodeTile(t board.TileView, render TileRenderer) (*tileState, error) {
	w := wireTile{TileView: t}
	if render != nil {
		html, err := render(t)
		if err != nil {
			return nil, err
		}
		w.HTML = html
	}
	v1, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode tile %s: %w", t.ID, err)
	}
	v2, err := tilepatch.Marshal(v2Tile{ID: t.ID, HTML: w.HTML})
	if err != nil {
		return nil, fmt.Errorf("encode tile %s: %w", t.ID, err)
	}
	return &tileState{v1: v1, v2: v2, html: w.HTML}, nil
}

// patchTiles returns, by tile id, the v2 patch of each tile whose markup
// changed from prev to next, when it is smaller than the tile whole;
// a tile missing from the answer goes whole. Only when patch is set
// (v2 screens watch) are trees parsed and compared; either way next keeps
// the trees of the tiles that did not change.
func patchTiles(prev, next map[string]*tileState, patch bool) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for id, cur := range next {
		old := prev[id]
		if old == nil {
			continue
		}
		if old.html == cur.html {
			cur.tree = old.tree
			continue
		}
		if !patch {
			continue
		}
		if old.tree == nil {
			old.tree, _ = tilepatch.Parse(old.html)
		}
		cur.tree, _ = tilepatch.Parse(cur.html)
		if old.tree == nil || cur.tree == nil {
			continue
		}
		ops, ok := tilepatch.Diff(old.tree, cur.tree)
		if !ok {
			continue
		}
		p, err := tilepatch.Marshal(v2Tile{ID: id, Patch: ops})
		if err != nil || len(p) >= len(cur.v2) {
			continue
		}
		if out == nil {
			out = make(map[string]json.RawMessage)
		}
		out[id] = p
	}
	return out
}

// encodeEnvelope encodes a message in a protocol version. v1 is encoded
// as before v2 existed (no v field, markup with <, > and & escaped); v2
// names its version and leaves markup as it is, which is shorter.
func encodeEnvelope(e Envelope, ver int) ([]byte, error) {
	if ver == ProtocolV2 {
		e.V = ProtocolV2
		return tilepatch.Marshal(e)
	}
	e.V = 0
	return json.Marshal(e)
}
