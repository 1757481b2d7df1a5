package csvimport

import (
	"errors"
	"strconv"
	"time"
)

// zonedLayouts carry their own offset.
var zonedLayouts = []string{
	time.RFC3339Nano, // also reads RFC 3339 without fractional seconds
	"2006-01-02 15:04:05Z07:00",
}

// naiveLayouts have no offset: they are read in the center's time zone.
// Slashes mean month/day/year (US exports), dots day.month.year (European
// ones). When parsing, Go accepts fractional seconds after any seconds field.
var naiveLayouts = []string{
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
	"01/02/2006 15:04:05",
	"01/02/2006 15:04",
	"01/02/2006",
	"02.01.2006 15:04:05",
	"02.01.2006 15:04",
	"02.01.2006",
}

var errTimeFormat = errors.New("must be a time such as 2025-01-31T09:30:00Z, 2025-01-31 09:30, 01/31/2025 or Unix seconds")

// ParseTime reads a CSV time cell. It accepts RFC 3339 (with or without
// fractional seconds), "2006-01-02 15:04:05" with an offset, the layouts of
// naiveLayouts, and Unix seconds (9 to 11 digits). Times without an offset
// are taken in loc (nil means UTC).
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if n := len(s); n >= 9 && n <= 11 && allDigits(s) {
		secs, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return time.Unix(secs, 0).UTC(), nil
		}
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	for _, l := range naiveLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errTimeFormat
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
