package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/metrics"
	"github.com/pulseboard/pulseboard/internal/openapi"
	"github.com/pulseboard/pulseboard/internal/openapi/openapitest"
)

// TestMain checks every response the package's tests read from a server
// against the OpenAPI document (openapitest.Transport), and, on a run of
// the whole package, that every /api/v1 operation had at least one real
// response validated. With -v it lists the (route, status) pairs.
func TestMain(m *testing.M) {
	os.Exit(openapitest.Main(m, func(m *testing.M) int {
		code := m.Run()
		if code != 0 || !openapitest.FullRun() {
			return code
		}
		if missing := unvalidatedAPIRoutes(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "openapitest: no response of these /api/v1 operations was validated in the run:\n  %s\n", strings.Join(missing, "\n  "))
			return 1
		}
		return code
	}))
}

// unvalidatedAPIRoutes lists the document's /api/v1 operations that no
// validated response of this run came from.
func unvalidatedAPIRoutes() []string {
	doc, err := openapi.Parse()
	if err != nil {
		return []string{err.Error()}
	}
	ops, err := doc.Operations()
	if err != nil {
		return []string{err.Error()}
	}
	seen := map[string]bool{}
	for _, k := range openapitest.Checked.Validated() {
		f := strings.Fields(k) // METHOD route status
		seen[f[0]+" "+f[1]] = true
	}
	var missing []string
	for _, op := range ops {
		if strings.HasPrefix(op.Path, "/api/v1/") && !seen[op.Method+" "+op.Path] {
			missing = append(missing, op.Method+" "+op.Path)
		}
	}
	return missing
}

// everyRoute is a server with every optional route on (metrics).
func everyRoute() *echo.Echo {
	return httpapi.New(httpapi.Deps{Metrics: metrics.New()})
}

// The document describes exactly the routes the server serves: every
// registered Echo route (method and path, :param as {param}, a wildcard by
// its path item's x-echo-path) has an operation, and every operation is a
// registered route.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	ops, err := doc.Operations()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, op := range ops {
		documented[op.Method+" "+doc.EchoPath(op.Path)] = true
	}
	served := map[string]bool{}
	for _, r := range everyRoute().Routes() {
		if r.Method == echo.RouteNotFound {
			continue // a group's catch-all (the /admin group's middleware), not a route
		}
		served[r.Method+" "+r.Path] = true
	}
	var undocumented, unserved []string
	for k := range served {
		if !documented[k] {
			undocumented = append(undocumented, k)
		}
	}
	for k := range documented {
		if !served[k] {
			unserved = append(unserved, k)
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unserved)
	if len(undocumented) > 0 {
		t.Errorf("routes the server serves that docs/openapi.json (internal/openapi/openapi.json) does not describe:\n  %s", strings.Join(undocumented, "\n  "))
	}
	if len(unserved) > 0 {
		t.Errorf("paths docs/openapi.json describes that the server does not serve:\n  %s", strings.Join(unserved, "\n  "))
	}
	if len(served) < 30 {
		t.Errorf("only %d routes found: the walk is broken", len(served))
	}
}

// GET /api/v1/openapi.json is the embedded document, byte for byte, and
// GET /api/v1/docs is a page that lists every operation of it.
func TestOpenAPIServed(t *testing.T) {
	srv := httptest.NewServer(everyRoute())
	t.Cleanup(srv.Close)
	res, body := call(t, "GET", srv.URL+"/api/v1/openapi.json", "", "")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" || !bytes.Equal(body, openapi.JSON()) {
		t.Fatalf("GET /api/v1/openapi.json: %d %s, %d bytes; want 200 application/json with the embedded document", res.StatusCode, res.Header.Get("Content-Type"), len(body))
	}
	res, body = call(t, "GET", srv.URL+"/api/v1/docs", "", "")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /api/v1/docs: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	doc, _ := openapi.Parse()
	ops, _ := doc.Operations()
	page := string(body)
	for _, op := range ops {
		if !strings.Contains(page, `id="op-`+op.OperationID+`"`) {
			t.Errorf("the reference page has no section for %s %s (op-%s)", op.Method, op.Path, op.OperationID)
		}
	}
	for name := range doc.Components.Schemas {
		if !strings.Contains(page, `id="schema-`+name+`"`) {
			t.Errorf("the reference page has no section for schema %s", name)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "http://") || strings.Contains(page, "https://cdn") {
		t.Errorf("the reference page loads a script or something from elsewhere")
	}
}

// The routes no other test of the package reaches with a response worth
// checking: the document itself, /api/v1/me, the admin reload. Their
// answers are validated by the transport like every other.
func TestOpenAPIIdentityAndAdmin(t *testing.T) {
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{AdminTokens: auth.NewTokens(testAdminToken)}))
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		method, path, token string
		status              int
	}{
		{"GET", "/api/v1/me", testAdminToken, 200},
		{"GET", "/api/v1/me", "", 401},
		{"POST", "/api/v1/admin/reload", testAdminToken, 404}, // built-in boards: no file to reload
		{"POST", "/api/v1/admin/reload", "", 401},
	} {
		if res, _ := call(t, c.method, srv.URL+c.path, c.token, ""); res.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, res.StatusCode, c.status)
		}
	}
}

// The board list and a board's JSON, validated like every response; no
// other test of the package reads them.
func TestOpenAPIBoards(t *testing.T) {
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{Boards: newFakeBoards(t), PublicBoards: true}))
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/v1/boards", 200},
		{"/api/v1/boards/floor", 200},
		{"/api/v1/boards/nope", 404},
		{"/api/v1/boards/team/billing", 404}, // the fake finds no template values
	} {
		if res, _ := call(t, "GET", srv.URL+c.path, "", ""); res.StatusCode != c.status {
			t.Errorf("GET %s: %d, want %d", c.path, res.StatusCode, c.status)
		}
	}
}
