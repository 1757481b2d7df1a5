// Package openapitest checks real responses against the OpenAPI document
// (package openapi) in tests: the route a request reached, that the status
// is documented for it, that the media type is one the document names, and
// that a JSON body (success or problem) matches its schema. Tests install
// Transport as http.DefaultTransport (Main), so every response a test reads
// from a Pulseboard server is checked without changing the tests, and the
// (route, status) pairs seen are listed at the end of the run.
package openapitest

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pulseboard/pulseboard/internal/openapi"
)

// base is the URL the document is loaded under, for the schema compiler's
// references (#/components/schemas/...).
const base = "https://pulseboard.invalid/openapi.json"

// Validator checks responses against the document.
type Validator struct {
	doc    *openapi.Doc
	routes []route

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
}

// route is one path of the document, split for matching.
type route struct {
	path     string   // as in the document: /boards/{name}
	segs     []string // param for a parameter
	wildcard bool     // the last parameter takes the rest of the path (Echo's *)
	ops      map[string]*openapi.Operation
	pointer  string // JSON pointer of the path item
}

// New loads the embedded document.
func New() (*Validator, error) {
	doc, err := openapi.Parse()
	if err != nil {
		return nil, err
	}
	ops, err := doc.Operations()
	if err != nil {
		return nil, err
	}
	byPath := map[string]*route{}
	v := &Validator{doc: doc, schemas: map[string]*jsonschema.Schema{}}
	for _, op := range ops {
		r := byPath[op.Path]
		if r == nil {
			echo := doc.EchoPath(op.Path)
			r = &route{path: op.Path, ops: map[string]*openapi.Operation{}, wildcard: strings.HasSuffix(echo, "*"),
				pointer: "#/paths/" + escape(op.Path)}
			for _, s := range strings.Split(op.Path, "/")[1:] {
				if strings.HasPrefix(s, "{") {
					s = param
				}
				r.segs = append(r.segs, s)
			}
			byPath[op.Path] = r
			v.routes = append(v.routes, *r)
		}
		r.ops[op.Method] = op.Operation
	}
	for i := range v.routes {
		v.routes[i].ops = byPath[v.routes[i].path].ops
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapi.JSON()))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(base, inst); err != nil {
		return nil, err
	}
	v.compiler = c
	return v, nil
}

// param marks a parameter's segment; a literal segment never holds "{".
const param = "{}"

// escape is a JSON pointer token.
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// Match finds the document path that serves a request path (escaped, as
// sent: an escaped slash stays inside its segment), the way Echo routes: at each segment a literal beats a parameter, and a wildcard
// takes the rest (an empty rest too).
func (v *Validator) Match(path string) (string, bool) {
	segs := strings.Split(path, "/")[1:]
	best, bestScore := "", -1
	for _, r := range v.routes {
		score, ok := r.match(segs)
		if ok && score > bestScore {
			best, bestScore = r.path, score
		}
	}
	return best, bestScore >= 0
}

// match scores a route against a path's segments: a bit per literal
// segment, the earlier the heavier, so the route with a literal where
// another has a parameter wins, as Echo's static-first routing decides.
func (r route) match(segs []string) (int, bool) {
	if len(segs) < len(r.segs) || (!r.wildcard && len(segs) != len(r.segs)) {
		// A wildcard may take an empty rest: /debug/pprof/ is ["debug",
		// "pprof", ""], which has as many segments as the route.
		return 0, false
	}
	score := 0
	for i, want := range r.segs {
		last := i == len(r.segs)-1
		switch {
		case want != param:
			if segs[i] != want {
				return 0, false
			}
			score |= 1 << (30 - i)
		case segs[i] == "" && !(last && r.wildcard):
			return 0, false
		}
	}
	return score, true
}

// Result is what Check found out.
type Result struct {
	// Route is the document's path ("" when no route serves the path) and
	// Method the request's.
	Route, Method string
	Status        int
	// Documented reports whether the route has an operation for the method.
	Documented bool
}

// Check validates one response. body is nil when the body was not read
// (then only the status and media type are checked).
func (v *Validator) Check(method, path string, status int, contentType string, body []byte) (Result, error) {
	res := Result{Method: method, Status: status}
	tpl, ok := v.Match(path)
	if !ok {
		// Nothing is routed there: the router's 404 (or 405).
		return res, v.checkUnrouted(path, status, contentType, body, "no route of the document serves "+path)
	}
	res.Route = tpl
	var r route
	for _, x := range v.routes {
		if x.path == tpl {
			r = x
		}
	}
	op, ok := r.ops[method]
	if !ok {
		if status == http.StatusMethodNotAllowed || status == http.StatusNotFound {
			return res, v.checkUnrouted(path, status, contentType, body, "")
		}
		return res, fmt.Errorf("%s %s: the document has no %s operation for %s, yet the server answered %d", method, path, method, tpl, status)
	}
	res.Documented = true
	code := strconv.Itoa(status)
	resp, ok := op.Responses[code]
	if !ok {
		return res, fmt.Errorf("%s %s (%s): status %d is not documented (documented: %s)", method, path, tpl, status, keys(op.Responses))
	}
	pointer := r.pointer + "/" + strings.ToLower(method) + "/responses/" + code
	if strings.HasPrefix(resp.Ref, "#/components/responses/") {
		pointer = resp.Ref
	}
	resp = v.doc.Resolve(resp)
	return res, v.checkBody(fmt.Sprintf("%s %s (%s) %d", method, path, tpl, status), resp, pointer, contentType, body)
}

// guardedPrefix is an Echo group with middleware (routes.go's /admin): it
// claims every path under it, so an unknown one answers what its guard
// answers (401, 403) before the router's 404.
const guardedPrefix = "/api/v1/admin/"

// checkUnrouted checks the router's own answers: a problem body (or the
// not-found page for a browser).
func (v *Validator) checkUnrouted(path string, status int, contentType string, body []byte, why string) error {
	guarded := strings.HasPrefix(path, guardedPrefix) && (status == http.StatusUnauthorized || status == http.StatusForbidden)
	if status != http.StatusNotFound && status != http.StatusMethodNotAllowed && !guarded {
		if why == "" {
			why = "unrouted"
		}
		return fmt.Errorf("%s, yet the server answered %d", why, status)
	}
	return v.checkBody(fmt.Sprintf("unrouted %d", status), v.doc.Components.Responses["PageNotFound"], "#/components/responses/PageNotFound", contentType, body)
}

func (v *Validator) checkBody(what string, resp *openapi.Response, pointer, contentType string, body []byte) error {
	if len(resp.Content) == 0 {
		if len(bytes.TrimSpace(body)) > 0 {
			return fmt.Errorf("%s: the document describes no body, yet one came (%s)", what, contentType)
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		if contentType == "" && len(body) == 0 {
			return fmt.Errorf("%s: no body, but the document describes %s", what, keys(resp.Content))
		}
		return fmt.Errorf("%s: content type %q: %v", what, contentType, err)
	}
	if _, ok := resp.Content[mt]; !ok {
		return fmt.Errorf("%s: content type %s is not one the document names (%s)", what, mt, keys(resp.Content))
	}
	if body == nil || !strings.HasSuffix(mt, "json") {
		return nil
	}
	sch, err := v.schema(pointer + "/content/" + escape(mt) + "/schema")
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: the body is not JSON: %v", what, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s: the body does not match the document: %v\nbody: %s", what, err, clip(body))
	}
	return nil
}

// schema compiles the schema at a pointer of the document, once.
func (v *Validator) schema(pointer string) (*jsonschema.Schema, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.schemas[pointer]; ok {
		return s, nil
	}
	s, err := v.compiler.Compile(base + pointer)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", pointer, err)
	}
	v.schemas[pointer] = s
	return s, nil
}

// Routes lists the document's operations as "METHOD /path".
func (v *Validator) Routes() []string {
	var out []string
	for _, r := range v.routes {
		for m := range r.ops {
			out = append(out, m+" "+r.path)
		}
	}
	return out
}

func keys[V any](m map[string]V) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}
