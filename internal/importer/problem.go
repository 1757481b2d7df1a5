package importer

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/pulseboard/pulseboard/pkg/client"
)

// refusal explains a refused batch: what the server said, each problem of
// an item named by the file line the item came from (lines[i] is item i's),
// and what to change when the command line can fix it.
func refusal(where string, e *client.Error, lines []int) error {
	msg := fmt.Sprintf("the server refused %s: %s", where, e.Status)
	if e.Problem.Detail != "" {
		msg += ": " + e.Problem.Detail
	} else if e.Body != "" {
		msg += ": " + e.Body
	}
	for _, d := range e.Problem.Errors {
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
	switch e.StatusCode {
	case http.StatusRequestEntityTooLarge:
		msg += "\n(pass a smaller --batch)"
	case http.StatusUnauthorized:
		msg += "\n(check --token or PULSEBOARD_INGEST_TOKENS)"
	}
	return errors.New(msg)
}
