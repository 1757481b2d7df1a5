package themes

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Parse reads the themes setting: "default" (the contact-center dictionary
// of Default), "none" (no themes: theme rollups stay empty), or a YAML or
// JSON list of themes {name, label, terms, negatable} that replaces the
// default whole. The list is checked by compiling it (New); nil means
// none.
func Parse(raw string) ([]Theme, error) {
	switch strings.TrimSpace(raw) {
	case "", "default":
		return Default(), nil
	case "none", "[]":
		return nil, nil
	}
	dec := yaml.NewDecoder(strings.NewReader(raw))
	dec.KnownFields(true)
	var list []Theme
	if err := dec.Decode(&list); err != nil && !errors.Is(err, io.EOF) {
		// yaml.v3 lists type errors on lines of their own; config errors
		// are one line.
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", ";")), " ")
		return nil, fmt.Errorf("want \"default\", \"none\" or a list of {name, label, terms, negatable}: %s", msg)
	}
	if _, err := New(list, nil); err != nil {
		return nil, err
	}
	return list, nil
}
