// Package openapi owns the OpenAPI 3.1 document of Pulseboard's HTTP API:
// every route the server serves (routes.go), with the JSON API's request
// and response schemas and the problem bodies of problem.go. The file
// openapi.json here is the one source; the server embeds it (GET
// /api/v1/openapi.json and the reference page at /api/v1/docs), and
// docs/openapi.json is a copy that `make generate` refreshes and a test
// keeps identical.
//
// The document is checked against the code from both sides: a test walks
// every registered Echo route and fails on a route the document lacks or a
// path it describes that the server does not serve, and the httpapi and
// program tests validate every response they get from a server against it
// (package openapitest).
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

//go:embed openapi.json
var document []byte

// JSON is the document as served. Callers must not modify it.
func JSON() []byte { return document }

// Methods are the HTTP methods a path item may describe, in the order the
// reference page lists them.
var Methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Doc is the part of the document the reference page reads.
type Doc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Summary     string `json:"summary"`
		Description string `json:"description"`
	} `json:"info"`
	Tags       []Tag                                 `json:"tags"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas         map[string]*Schema         `json:"schemas"`
		Responses       map[string]*Response       `json:"responses"`
		Parameters      map[string]*Parameter      `json:"parameters"`
		SecuritySchemes map[string]*SecurityScheme `json:"securitySchemes"`
	} `json:"components"`
}

// Tag groups operations.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Operation is one method of one path.
type Operation struct {
	Tags        []string              `json:"tags"`
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Description string                `json:"description"`
	Parameters  []*Parameter          `json:"parameters"`
	RequestBody *RequestBody          `json:"requestBody"`
	Responses   map[string]*Response  `json:"responses"`
	Security    []map[string][]string `json:"security"`
}

// Parameter is a path, query, header or cookie parameter, or a $ref to one.
type Parameter struct {
	Ref         string          `json:"$ref"`
	Name        string          `json:"name"`
	In          string          `json:"in"`
	Required    bool            `json:"required"`
	Description string          `json:"description"`
	Schema      *Schema         `json:"schema"`
	Example     json.RawMessage `json:"example"`
}

// RequestBody is an operation's body, by media type.
type RequestBody struct {
	Required bool                  `json:"required"`
	Content  map[string]*MediaType `json:"content"`
}

// Response is one status's answer, or a $ref to a shared one.
type Response struct {
	Ref         string                `json:"$ref"`
	Description string                `json:"description"`
	Content     map[string]*MediaType `json:"content"`
	Headers     map[string]struct {
		Description string `json:"description"`
	} `json:"headers"`
}

// MediaType is a body of one media type.
type MediaType struct {
	Schema   *Schema         `json:"schema"`
	Example  json.RawMessage `json:"example"`
	Examples map[string]struct {
		Summary string          `json:"summary"`
		Value   json.RawMessage `json:"value"`
	} `json:"examples"`
}

// SecurityScheme is one way to prove who a request is.
type SecurityScheme struct {
	Type        string `json:"type"`
	Scheme      string `json:"scheme"`
	In          string `json:"in"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Schema is the part of a JSON Schema the reference page shows.
type Schema struct {
	Ref                  string             `json:"$ref"`
	Type                 json.RawMessage    `json:"type"`
	Format               string             `json:"format"`
	Description          string             `json:"description"`
	Properties           map[string]*Schema `json:"properties"`
	Required             []string           `json:"required"`
	Items                *Schema            `json:"items"`
	OneOf                []*Schema          `json:"oneOf"`
	AdditionalProperties json.RawMessage    `json:"additionalProperties"`
	Enum                 []any              `json:"enum"`
	Const                any                `json:"const"`
	Minimum              *float64           `json:"minimum"`
	Maximum              *float64           `json:"maximum"`
	MinLength            *int               `json:"minLength"`
	MaxLength            *int               `json:"maxLength"`
	MinItems             *int               `json:"minItems"`
	MaxItems             *int               `json:"maxItems"`
	Pattern              string             `json:"pattern"`
}

// Parse reads the embedded document.
func Parse() (*Doc, error) {
	var d Doc
	if err := json.Unmarshal(document, &d); err != nil {
		return nil, fmt.Errorf("parse the OpenAPI document: %w", err)
	}
	return &d, nil
}

// Op is an operation with its method and path.
type Op struct {
	Method, Path string
	*Operation
}

// Operations lists every operation, sorted by path and then in Methods'
// order.
func (d *Doc) Operations() ([]Op, error) {
	paths := make([]string, 0, len(d.Paths))
	for p := range d.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var out []Op
	for _, p := range paths {
		for _, m := range Methods {
			raw, ok := d.Paths[p][m]
			if !ok {
				continue
			}
			var op Operation
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("%s %s: %w", strings.ToUpper(m), p, err)
			}
			out = append(out, Op{Method: strings.ToUpper(m), Path: p, Operation: &op})
		}
	}
	return out, nil
}

// EchoPath is the route a document path describes in Echo's syntax: the
// path item's x-echo-path for a wildcard route (/static/*), else the path
// with each {param} as :param.
func (d *Doc) EchoPath(path string) string {
	if raw, ok := d.Paths[path]["x-echo-path"]; ok {
		var p string
		if json.Unmarshal(raw, &p) == nil {
			return p
		}
	}
	return EchoPath(path)
}

// EchoPath turns {param} into :param.
func EchoPath(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(segs, "/")
}

// SchemaName is the component name a $ref points to ("" for another ref).
func SchemaName(ref string) string {
	const prefix = "#/components/schemas/"
	if strings.HasPrefix(ref, prefix) {
		return ref[len(prefix):]
	}
	return ""
}

// Resolve follows a response's $ref.
func (d *Doc) Resolve(r *Response) *Response {
	const prefix = "#/components/responses/"
	if r != nil && strings.HasPrefix(r.Ref, prefix) {
		if t, ok := d.Components.Responses[r.Ref[len(prefix):]]; ok {
			return t
		}
	}
	return r
}

// ResolveParameter follows a parameter's $ref.
func (d *Doc) ResolveParameter(p *Parameter) *Parameter {
	const prefix = "#/components/parameters/"
	if p != nil && strings.HasPrefix(p.Ref, prefix) {
		if t, ok := d.Components.Parameters[p.Ref[len(prefix):]]; ok {
			return t
		}
	}
	return p
}
