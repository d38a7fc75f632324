package steps

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRunStopsAtTheFirstError(t *testing.T) {
	var ran []string
	step := func(name string, err error) Step[*[]string] {
		return func(_ context.Context, run *[]string) error {
			*run = append(*run, name)
			return err
		}
	}
	stop := Refusal("Refused", "no %s", "way")
	err := Run(context.Background(), &ran, step("a", nil), step("b", stop), step("c", nil))
	assert.Same(t, stop, err)
	assert.Equal(t, []string{"a", "b"}, ran)
}

func TestErrorWrapsItsCause(t *testing.T) {
	cause := errors.New("connection reset")
	err := Transient("AWSError", "reading from SSM", cause)
	assert.Equal(t, "reading from SSM: connection reset", err.Error())
	assert.ErrorIs(t, err, cause)
	assert.True(t, err.Retry)
	assert.Equal(t, "no way", Refusal("Refused", "no %s", "way").Error())
}
