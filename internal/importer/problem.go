package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pulseboard/pulseboard/internal/api"
)

// refusedError is a reply the import cannot get past: a status that is
// neither success nor "try again later", with the server's problem details.
type refusedError struct {
	status  string // e.g. "422 Unprocessable Entity"
	code    int
	problem api.Problem // as much of it as the body held
	// text is the body, trimmed and shortened, when it held no problem
	// detail (a proxy's page, a plain-text error).
	text string
}

// readRefusal reads a refusal's body as problem JSON.
func readRefusal(res *http.Response, body []byte) *refusedError {
	e := &refusedError{status: res.Status, code: res.StatusCode}
	err := json.Unmarshal(body, &e.problem)
	// A field of another type (a proxy's own JSON) leaves the rest read.
	var typeErr *json.UnmarshalTypeError
	if (err != nil && !errors.As(err, &typeErr)) || e.problem.Detail == "" {
		e.text = truncate(strings.TrimSpace(string(body)), 300)
	}
	return e
}

func (e *refusedError) Error() string {
	msg := e.status
	if e.text != "" {
		return msg + ": " + e.text
	}
	if e.problem.Detail != "" {
		msg += ": " + e.problem.Detail
	}
	return msg
}

// refusal explains a refused batch: what the server said, each problem of
// an item named by the file line the item came from (lines[i] is item i's),
// and what to change when the command line can fix it.
func refusal(where string, e *refusedError, lines []int) error {
	msg := fmt.Sprintf("the server refused %s: %s", where, e.Error())
	for _, d := range e.problem.Errors {
		line := "?"
		if d.Index >= 0 && d.Index < len(lines) {
			line = strconv.Itoa(lines[d.Index])
		}
		if d.Field != "" {
			msg += fmt.Sprintf("\n  line %s: %s: %s", line, d.Field, d.Reason)
		} else {
			msg += fmt.Sprintf("\n  line %s: %s", line, d.Reason)
		}
	}
	switch e.code {
	case http.StatusRequestEntityTooLarge:
		msg += "\n(pass a smaller --batch)"
	case http.StatusUnauthorized:
		msg += "\n(check --token or PULSEBOARD_INGEST_TOKENS)"
	}
	return errors.New(msg)
}

// truncate shortens s to n bytes and marks the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
