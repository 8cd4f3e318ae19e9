// Package loglevel is a config's log_level (debug, info, warn, error), held
// in a slog.LevelVar so SIGHUP can change it in a running program.
package loglevel

import (
	"fmt"
	"log/slog"
	"strings"
)

// Level is log_level as written in a config file; "" is info.
type Level string

// Parse returns l as a slog.Level.
func (l Level) Parse() (slog.Level, error) {
	switch strings.ToLower(string(l)) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log_level: %q: want debug, info, warn or error", string(l))
}

// Check reports a bad level.
func (l Level) Check() error { _, err := l.Parse(); return err }
