package main

import (
	"errors"
	"flag"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
)

// Exit codes of CONTRACTS §1.
const (
	exitOK        = 0
	exitFailed    = 1
	exitUsage     = 2
	exitTolerance = 3
)

// usageError is bad usage of a command: a flag or argument.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue *usageError
	var ce *config.Error
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue), errors.As(err, &ce):
		return exitUsage
	case errors.Is(err, pipeline.ErrTolerance):
		return exitTolerance
	}
	return exitFailed
}
