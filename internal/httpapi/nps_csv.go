package httpapi

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
)

// csvColumns follow the key dimensions in every row of the CSV answer.
var csvColumns = []string{
	"nps", "ci_low", "ci_high", "responses", "promoters", "passives", "detractors",
	"promoter_share", "passive_share", "detractor_share", "low_sample", "from", "to",
	"csat", "csat_low", "csat_high", "csat_answers", "csat_satisfied",
	"response_rate", "response_rate_low", "response_rate_high", "offered", "answered",
}

// csvThemeLabel is the column of a theme's label.
const csvThemeLabel = "theme_label"

// writeNPSCSV answers with the same groups as the JSON, one row each: the
// key dimensions (in the order of by), then nps.Summary's figures, rounded
// as in the JSON and printed the way encoding/json prints them, and the
// span the row counts. An empty figure (no responses) is an empty cell.
// A breakdown by theme adds theme_label after the key dimensions: the
// theme's label, as the JSON's labels carry it.
func (a *API) writeNPSCSV(c echo.Context, req npsRequest, groups []store.Group) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true // RFC 4180 line ends, which every spreadsheet reads
	header := make([]string, 0, len(req.Query.By)+len(csvColumns))
	byTheme := slices.Contains(req.Query.By, store.Theme)
	for _, d := range req.Query.By {
		header = append(header, string(d))
	}
	if byTheme {
		header = append(header, csvThemeLabel)
	}
	if err := w.Write(append(header, csvColumns...)); err != nil {
		return err
	}
	from, to := req.Query.Span.From.UTC().Format(time.RFC3339), req.Query.Span.To.UTC().Format(time.RFC3339)
	for _, g := range groups {
		s := nps.Summarize(g.Counts, a.MinSample)
		row := make([]string, 0, len(header))
		for _, d := range req.Query.By {
			row = append(row, csvText(g.Key[d]))
		}
		if byTheme {
			row = append(row, csvText(a.themeLabel(g.Key[store.Theme])))
		}
		row = append(row, csvNumber(s.NPS), csvNumber(s.CILow), csvNumber(s.CIHigh),
			strconv.FormatInt(s.Responses, 10), strconv.FormatInt(s.Promoters, 10), strconv.FormatInt(s.Passives, 10), strconv.FormatInt(s.Detractors, 10),
			csvNumber(s.PromoterShare), csvNumber(s.PassiveShare), csvNumber(s.DetractorShare),
			strconv.FormatBool(s.LowSample), from, to)
		row = appendCSATCells(row, csatOf(g))
		row = appendRateCells(row, rateOf(g))
		if err := w.Write(row); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	// The file name is built from the span alone, never from user input.
	name := "pulseboard-nps-" + req.Query.Span.From.UTC().Format("20060102T1504Z") + "-" + req.Query.Span.To.UTC().Format("20060102T1504Z") + ".csv"
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8; header=present", buf.Bytes())
}

// appendCSATCells adds the CSAT columns: empty without CSAT answers.
func appendCSATCells(row []string, c *csatJSON) []string {
	if c == nil {
		return append(row, "", "", "", "0", "0")
	}
	return append(row, csvNumber(&c.CSAT), csvNumber(&c.Low), csvNumber(&c.High),
		strconv.FormatInt(c.Answers, 10), strconv.FormatInt(c.Satisfied, 10))
}

// appendRateCells adds the response-rate columns: empty without offers.
func appendRateCells(row []string, r *rateJSON) []string {
	if r == nil {
		return append(row, "", "", "", "0", "0")
	}
	return append(row, csvNumber(&r.Rate), csvNumber(&r.Low), csvNumber(&r.High),
		strconv.FormatInt(r.Offered, 10), strconv.FormatInt(r.Answered, 10))
}

// csvNumber prints a figure as encoding/json does (shortest form, no
// exponent at these magnitudes), empty when there is none. A number cell
// is left as it is even when negative ("-12.5"): it is only ever digits, a
// sign and a point, which a spreadsheet reads as a number and cannot run.
func csvNumber(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// csvText makes a text cell safe to open in a spreadsheet (OWASP, CSV
// injection): a cell that starts with = + - @, a tab or a carriage return
// could be read as a formula, so it gets a leading apostrophe, which
// spreadsheets take as "this is text" and do not show. Dimension values
// ("-1+1", "@SUM 1") are the only text cells.
func csvText(s string) string {
	if s != "" && bytes.IndexByte([]byte("=+-@\t\r"), s[0]) >= 0 {
		return "'" + s
	}
	return s
}
