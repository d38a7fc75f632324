// Package steps runs a reconcile as a list of named steps and carries why a step stopped it.
// Both controllers use it, so a stopped step means the same thing everywhere: a CamelCase reason for
// status and Events, and whether to retry with backoff or look again later.
package steps

import (
	"context"
	"fmt"
	"time"
)

// Step is one named step of a reconcile over its run state.
type Step[T any] func(ctx context.Context, run T) error

// Run runs the steps in order and stops at the first error.
func Run[T any](ctx context.Context, run T, steps ...Step[T]) error {
	for _, step := range steps {
		if err := step(ctx, run); err != nil {
			return err
		}
	}
	return nil
}

// Error stops a reconcile at one step.
type Error struct {
	// Reason is the CamelCase reason users see in conditions and Events.
	Reason  string
	Message string
	Cause   error
	// Retry hands the error to the workqueue's backoff: the cause is transient.
	Retry bool
	// After is how soon to look again when not retrying with backoff; zero means the regular period.
	After time.Duration
	// Quiet marks an expected passing state: no Warning Event, no error in the log.
	Quiet bool
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// Refusal is a problem only the object's owner (or an admin) can fix: retrying with backoff would
// not help, and a change to the object triggers a reconcile.
func Refusal(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Transient is a failure of AWS or of the API server that backoff retries may overcome.
func Transient(reason, action string, err error) *Error {
	return &Error{Reason: reason, Message: action, Cause: err, Retry: true}
}
