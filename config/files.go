// Package configfiles embeds the shipped configuration files, so the binary
// runs with its default boards even where config/ is not beside it.
package configfiles

import _ "embed"

// Boards is config/boards.yaml as shipped.
//
//go:embed boards.yaml
var Boards []byte

// DemoAlerts is config/demo-alerts.yaml: the demo's follow-up queues and
// routing rules.
//
//go:embed demo-alerts.yaml
var DemoAlerts []byte
