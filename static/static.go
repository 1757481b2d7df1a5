// Package static embeds the stylesheet, scripts and icons served under
// /static/, so the binary is the whole deployment.
package static

import "embed"

// FS holds the files of this folder.
//
//go:embed *.css *.js
var FS embed.FS
