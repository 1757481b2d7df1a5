package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/openapi"
	"github.com/pulseboard/pulseboard/views"
)

// The API's own description: GET /api/v1/openapi.json serves the OpenAPI
// document (package openapi owns it), GET /api/v1/docs renders it as a
// page. Both are open to anyone: they describe routes, not data.

// getOpenAPI answers GET /api/v1/openapi.json.
func (a *API) getOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openapi.JSON())
}

// getAPIDocs answers GET /api/v1/docs.
func (a *API) getAPIDocs(c echo.Context) error {
	page, err := apiDocPage()
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.APIDoc(page))
}

// apiDocPage builds the reference page from the embedded document, on
// each request rather than cached: a page read now and then by a person,
// and one that nobody opens costs no memory. (Not measured; cache it if
// it ever shows in a profile.)
func apiDocPage() (views.APIDocPage, error) {
	doc, err := openapi.Parse()
	if err != nil {
		return views.APIDocPage{}, err
	}
	ops, err := doc.Operations()
	if err != nil {
		return views.APIDocPage{}, err
	}
	p := views.APIDocPage{Title: doc.Info.Title, Version: doc.Info.Version}
	for _, para := range strings.Split(doc.Info.Description, "\n\n") {
		p.Intro = append(p.Intro, views.ProseOf(para))
	}
	byTag := map[string][]views.APIOp{}
	for _, op := range ops {
		tag := "Other"
		if len(op.Tags) > 0 {
			tag = op.Tags[0]
		}
		byTag[tag] = append(byTag[tag], opView(doc, op))
	}
	for _, t := range doc.Tags {
		p.Tags = append(p.Tags, views.APITag{Name: t.Name, ID: "tag-" + slug(t.Name), Description: views.ProseOf(t.Description), Ops: byTag[t.Name]})
		delete(byTag, t.Name)
	}
	for _, name := range sortedNames(byTag) {
		p.Tags = append(p.Tags, views.APITag{Name: name, ID: "tag-" + slug(name), Ops: byTag[name]})
	}
	for _, name := range sortedNames(doc.Components.SecuritySchemes) {
		s := doc.Components.SecuritySchemes[name]
		kind := s.Type
		switch {
		case s.Type == "http":
			kind = "HTTP " + s.Scheme
		case s.Type == "apiKey":
			kind = s.In + " " + s.Name
		}
		p.Security = append(p.Security, views.APISecurity{Name: name, Kind: kind, Description: views.ProseOf(s.Description)})
	}
	for _, name := range sortedNames(doc.Components.Schemas) {
		s := doc.Components.Schemas[name]
		p.Schemas = append(p.Schemas, views.APISchema{Name: name, ID: "schema-" + name, Description: views.ProseOf(s.Description),
			Type: typeOf(s), Rules: rulesOf(s), Fields: fieldsOf("", s)})
	}
	return p, nil
}

func opView(doc *openapi.Doc, op openapi.Op) views.APIOp {
	v := views.APIOp{ID: "op-" + op.OperationID, Method: op.Method, Path: op.Path, Summary: op.Summary,
		Description: views.ProseOf(op.Description), Auth: authOf(op.Security)}
	if v.ID == "op-" {
		v.ID = "op-" + slug(op.Method+" "+op.Path)
	}
	for _, prm := range op.Parameters {
		prm = doc.ResolveParameter(prm)
		pv := views.APIParam{Name: prm.Name, In: prm.In, Required: prm.Required, Description: views.ProseOf(prm.Description)}
		if prm.Schema != nil {
			pv.Type, pv.Rules = typeOf(prm.Schema), rulesOf(prm.Schema)
		}
		v.Params = append(v.Params, pv)
	}
	if op.RequestBody != nil {
		v.Bodies = bodiesOf(op.RequestBody.Content)
	}
	codes := make([]string, 0, len(op.Responses))
	for code := range op.Responses {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		r := doc.Resolve(op.Responses[code])
		v.Responses = append(v.Responses, views.APIResponse{Status: code, Description: views.ProseOf(r.Description), Bodies: bodiesOf(r.Content)})
	}
	return v
}

// authNames says each security scheme in words.
var authNames = map[string]string{
	"ingestToken": "ingest token", "adminToken": "admin token", "viewerToken": "viewer token", "session": "signed-in session",
	"ssoProxy": "SSO proxy user", "screenCookie": "paired screen", "delightedSignature": "Delighted signature",
	"webhookSecretHeader": "webhook secret (header)", "webhookSecretQuery": "webhook secret (query)",
}

func authOf(reqs []map[string][]string) []string {
	var out []string
	for _, r := range reqs {
		if len(r) == 0 {
			out = append(out, "anyone")
			continue
		}
		for name := range r {
			if n, ok := authNames[name]; ok {
				name = n
			}
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		out = []string{"anyone"}
	}
	return out
}

func bodiesOf(content map[string]*openapi.MediaType) []views.APIBody {
	var out []views.APIBody
	for _, mt := range sortedNames(content) {
		m := content[mt]
		b := views.APIBody{MediaType: mt}
		if m.Schema != nil {
			b.Type = typeOf(m.Schema)
		}
		if len(m.Example) > 0 {
			b.Examples = append(b.Examples, views.APIExample{Text: exampleText(m.Example)})
		}
		for _, name := range sortedNames(m.Examples) {
			b.Examples = append(b.Examples, views.APIExample{Summary: m.Examples[name].Summary, Text: exampleText(m.Examples[name].Value)})
		}
		out = append(out, b)
	}
	return out
}

// exampleText pretty-prints a JSON example; a string example (CSV,
// NDJSON) is shown as its text.
func exampleText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// typeOf says a schema's type: a named schema's link, "array of …",
// "string (date-time)", "one of A, B", "number or null".
func typeOf(s *openapi.Schema) views.APIType {
	if s == nil {
		return views.APIType{{Text: "any"}}
	}
	if name := openapi.SchemaName(s.Ref); name != "" {
		return views.APIType{{Text: name, Link: "#schema-" + name}}
	}
	if len(s.OneOf) > 0 {
		t := views.APIType{{Text: "one of "}}
		for i, o := range s.OneOf {
			if i > 0 {
				t = append(t, views.TypePart{Text: ", "})
			}
			t = append(t, typeOf(o)...)
		}
		return t
	}
	var types []string
	if len(s.Type) > 0 {
		var one string
		if json.Unmarshal(s.Type, &one) == nil {
			types = []string{one}
		} else {
			_ = json.Unmarshal(s.Type, &types)
		}
	}
	if len(types) == 0 {
		return views.APIType{{Text: "any JSON"}}
	}
	var t views.APIType
	for i, ty := range types {
		if i > 0 {
			t = append(t, views.TypePart{Text: " or "})
		}
		switch {
		case ty == "array":
			t = append(t, views.TypePart{Text: "array of "})
			t = append(t, typeOf(s.Items)...)
		case ty == "object" && len(s.Properties) == 0 && len(s.AdditionalProperties) > 0 && s.AdditionalProperties[0] == '{':
			var ap openapi.Schema
			_ = json.Unmarshal(s.AdditionalProperties, &ap)
			t = append(t, views.TypePart{Text: "object of "})
			t = append(t, typeOf(&ap)...)
		case s.Format != "":
			t = append(t, views.TypePart{Text: ty + " (" + s.Format + ")"})
		default:
			t = append(t, views.TypePart{Text: ty})
		}
	}
	return t
}

// rulesOf says a schema's constraints in words.
func rulesOf(s *openapi.Schema) string {
	var r []string
	if len(s.Enum) > 0 {
		vals := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			vals[i] = fmt.Sprint(e)
		}
		r = append(r, "one of: "+strings.Join(vals, ", "))
	}
	if s.Const != nil {
		r = append(r, fmt.Sprintf("always %v", s.Const))
	}
	num := func(f *float64) string { return strconv.FormatFloat(*f, 'f', -1, 64) }
	switch {
	case s.Minimum != nil && s.Maximum != nil:
		r = append(r, num(s.Minimum)+" to "+num(s.Maximum))
	case s.Minimum != nil:
		r = append(r, "at least "+num(s.Minimum))
	case s.Maximum != nil:
		r = append(r, "at most "+num(s.Maximum))
	}
	length := func(what string, lo, hi *int) {
		switch {
		case lo != nil && hi != nil && *lo == *hi:
			r = append(r, fmt.Sprintf("exactly %d %s", *lo, what))
		case lo != nil && hi != nil:
			r = append(r, fmt.Sprintf("%d to %d %s", *lo, *hi, what))
		case hi != nil:
			r = append(r, fmt.Sprintf("at most %d %s", *hi, what))
		case lo != nil:
			r = append(r, fmt.Sprintf("at least %d %s", *lo, what))
		}
	}
	length("characters", s.MinLength, s.MaxLength)
	length("items", s.MinItems, s.MaxItems)
	if s.Pattern != "" {
		r = append(r, "pattern "+s.Pattern)
	}
	return strings.Join(r, "; ")
}

// fieldsOf lists a schema's properties, and those of inline objects
// within it as dotted names ("change.delta", "points[].label").
func fieldsOf(prefix string, s *openapi.Schema) []views.APIField {
	if s == nil {
		return nil
	}
	if s.Items != nil && s.Items.Ref == "" && len(s.Items.Properties) > 0 {
		return fieldsOf(prefix+"[]", s.Items)
	}
	req := map[string]bool{}
	for _, r := range s.Required {
		req[r] = true
	}
	var out []views.APIField
	for _, name := range sortedNames(s.Properties) {
		ps := s.Properties[name]
		full := name
		if prefix != "" {
			full = prefix + "." + name
		}
		out = append(out, views.APIField{Name: full, Type: typeOf(ps), Required: req[name], Description: views.ProseOf(ps.Description), Rules: rulesOf(ps)})
		if ps.Ref == "" {
			out = append(out, fieldsOf(full, ps)...)
		}
	}
	return out
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// slug makes an HTML id from a name.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}
