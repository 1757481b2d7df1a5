// Package views holds the templ components of every page. Components take
// view models from package board and only lay them out.
package views

import (
	"fmt"
	"strconv"

	"github.com/a-h/templ"
)

func fmtInt(n int) string     { return strconv.Itoa(n) }
func fmtInt64(n int64) string { return strconv.FormatInt(n, 10) }

// barStyle sets a bar's width; the value is a number the server computed,
// so it is safe as CSS.
func barStyle(pct float64) templ.SafeCSS {
	return templ.SafeCSS(fmt.Sprintf("width:%.1f%%", pct))
}
