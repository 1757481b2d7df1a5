package views

import "strings"

// APIDocPage is the reference page of the HTTP API (GET /api/v1/docs),
// built by httpapi from the OpenAPI document: what the page shows, in the
// document's words.
type APIDocPage struct {
	Title, Version string
	Intro          []Prose
	Tags           []APITag
	Security       []APISecurity
	Schemas        []APISchema
}

// Prose is a run of text whose `backticked` parts are code.
type Prose []Span

// Span is a piece of Prose.
type Span struct {
	Text string
	Code bool
}

// ProseOf splits text at backticks: every other part is code.
func ProseOf(text string) Prose {
	parts := strings.Split(text, "`")
	out := make(Prose, 0, len(parts))
	for i, p := range parts {
		if p != "" {
			out = append(out, Span{Text: p, Code: i%2 == 1})
		}
	}
	return out
}

// APITag is a group of operations.
type APITag struct {
	Name, ID    string
	Description Prose
	Ops         []APIOp
}

// APIOp is one operation.
type APIOp struct {
	ID, Method, Path, Summary string
	Description               Prose
	// Auth names the ways in ("anyone", "viewer token", …).
	Auth      []string
	Params    []APIParam
	Bodies    []APIBody
	Responses []APIResponse
}

// APIParam is one parameter.
type APIParam struct {
	Name, In    string
	Type        APIType
	Required    bool
	Description Prose
	Rules       string
}

// APIBody is a body of one media type.
type APIBody struct {
	MediaType string
	Type      APIType
	// Examples are pretty-printed, each with its summary ("" for one alone).
	Examples []APIExample
}

// APIExample is one example body.
type APIExample struct {
	Summary, Text string
}

// APIResponse is one status's answer.
type APIResponse struct {
	Status      string
	Description Prose
	Bodies      []APIBody
}

// APIType is a schema's type as text, with links to named schemas.
type APIType []TypePart

// TypePart is a piece of an APIType: text, or a named schema's link.
type TypePart struct {
	Text, Link string
}

// APISchema is a named schema.
type APISchema struct {
	Name, ID    string
	Description Prose
	Type        APIType
	Rules       string
	Fields      []APIField
}

// APIField is a property of a schema (nested ones with dotted names).
type APIField struct {
	Name        string
	Type        APIType
	Required    bool
	Description Prose
	Rules       string
}

// APISecurity is a way to prove who a request is.
type APISecurity struct {
	Name, Kind  string
	Description Prose
}
