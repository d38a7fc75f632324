package ssmfetch

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Parameter is one SSM parameter as the operator needs it.
// Its String and GoString forms omit Value, so a parameter that ends up in a
// log line or an error message does not leak the secret.
type Parameter struct {
	// Name is the name as requested, including a ":version" or ":label"
	// selector; for GetByPath it is the full parameter name.
	Name string
	// Value is kept exactly as SSM returns it (decrypted; StringList values
	// stay comma-separated).
	Value        string
	Type         string
	Version      int64
	ARN          string
	LastModified time.Time
}

// String describes the parameter without its value.
func (p Parameter) String() string {
	return fmt.Sprintf("Parameter{Name: %q, Type: %q, Version: %d, Value: <redacted>}", p.Name, p.Type, p.Version)
}

// GoString keeps %#v from printing the value.
func (p Parameter) GoString() string {
	return p.String()
}

// Result answers one Get call.
type Result struct {
	// Parameters holds the found parameters, keyed by the requested name
	// (including its selector).
	Parameters map[string]Parameter
	// NotFound lists the requested names SSM does not know, sorted. A
	// selector naming a missing version or label is reported here as well.
	NotFound []string
}

func toParameter(name string, p types.Parameter) Parameter {
	return Parameter{
		Name:         name,
		Value:        aws.ToString(p.Value),
		Type:         string(p.Type),
		Version:      p.Version,
		ARN:          aws.ToString(p.ARN),
		LastModified: aws.ToTime(p.LastModifiedDate),
	}
}
