package openapi_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/pulseboard/pulseboard/internal/openapi"
)

// docs/openapi.json is the document the server embeds, byte for byte
// (make generate copies it).
func TestDocsCopyIsCurrent(t *testing.T) {
	docs, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs, openapi.JSON()) {
		t.Fatal("docs/openapi.json differs from internal/openapi/openapi.json: run make generate")
	}
}

// Every operation parses, has an id, a tag the document declares, and
// responses; every $ref points at something.
func TestDocumentWellFormed(t *testing.T) {
	doc, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	ops, err := doc.Operations()
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]bool{}
	for _, tg := range doc.Tags {
		tags[tg.Name] = true
	}
	ids := map[string]bool{}
	for _, op := range ops {
		what := op.Method + " " + op.Path
		if op.OperationID == "" || ids[op.OperationID] {
			t.Errorf("%s: operationId %q missing or used twice", what, op.OperationID)
		}
		ids[op.OperationID] = true
		if len(op.Tags) != 1 || !tags[op.Tags[0]] {
			t.Errorf("%s: tags %v, want one declared tag", what, op.Tags)
		}
		if len(op.Responses) == 0 || op.Summary == "" {
			t.Errorf("%s: no responses or summary", what)
		}
		for code, r := range op.Responses {
			if r.Ref != "" && doc.Resolve(r) == r {
				t.Errorf("%s %s: $ref %s points at nothing", what, code, r.Ref)
			}
		}
		for _, p := range op.Parameters {
			if p.Ref != "" && doc.ResolveParameter(p) == p {
				t.Errorf("%s: parameter $ref %s points at nothing", what, p.Ref)
			}
		}
	}
}
