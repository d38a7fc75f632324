package ssmfetch

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// maxNameLength is the API's limit for a requested name (a full ARN with a
// selector included).
const maxNameLength = 2048

// ErrInvalidName marks a requested name that SSM would reject. Such names are
// refused before batching because SSM fails the whole GetParameters call
// for one malformed name, which would fail every other caller sharing the batch.
var ErrInvalidName = errors.New("ssmfetch: invalid parameter name")

// uniqueKeys validates names and returns them sorted and without duplicates.
func uniqueKeys(names []string) ([]string, error) {
	for _, name := range names {
		if err := validateName(name); err != nil {
			return nil, err
		}
	}
	keys := slices.Clone(names)
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

func validateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrInvalidName)
	case len(name) > maxNameLength:
		return fmt.Errorf("%w: name longer than %d bytes", ErrInvalidName, maxNameLength)
	case strings.ContainsFunc(name, unicode.IsSpace):
		return fmt.Errorf("%w: %q contains whitespace", ErrInvalidName, name)
	}
	return nil
}
