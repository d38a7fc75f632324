package ssm

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	"github.com/605-tv/k8s-aws-operator/internal/ssmfetch"
)

// baseName strips a ":version"/":label" selector from a requested name.
func baseName(requested string) string {
	if i := strings.IndexByte(requested, ':'); i >= 0 {
		return requested[:i]
	}
	return requested
}

// secretKeyFor is the Secret key of a parameter: its explicit mapping, or the last level of its name.
func secretKeyFor(requested string, mappings map[string]string) string {
	if key, ok := mappings[requested]; ok {
		return key
	}
	name := baseName(requested)
	return name[strings.LastIndexByte(name, '/')+1:]
}

func keyMappings(spec *ssmv1alpha1.SsmConfigSpec) map[string]string {
	mappings := make(map[string]string, len(spec.KeyMappings))
	for _, m := range spec.KeyMappings {
		mappings[string(m.Parameter)] = m.SecretKey
	}
	return mappings
}

// keyConflictError says which parameters would land on one Secret key, or which keys are invalid.
type keyConflictError struct{ problems []string }

func (e *keyConflictError) Error() string {
	return strings.Join(e.problems, "; ") + " (give them distinct keys with spec.keyMappings)"
}

// secretData maps fetched values to Secret keys. A requested name that SSM does not have keeps the
// value its key had in the previous data, so a deleted or mistyped parameter never wipes a value
// pods already use. Two parameters on one key are an error: nothing is written then.
func secretData(spec *ssmv1alpha1.SsmConfigSpec, values fetchedValues, previous map[string][]byte) (map[string][]byte, error) {
	mappings := keyMappings(spec)
	owners := map[string][]string{}
	data := map[string][]byte{}
	assign := func(requested string, value []byte) {
		key := secretKeyFor(requested, mappings)
		owners[key] = append(owners[key], requested)
		if value != nil {
			data[key] = value
		}
	}
	for _, key := range spec.SsmKeys {
		requested := string(key)
		if p, ok := values.byName[requested]; ok {
			assign(requested, []byte(p.Value))
		} else {
			assign(requested, previous[secretKeyFor(requested, mappings)])
		}
	}
	for _, p := range values.fromPaths {
		if _, listed := values.byName[p.Name]; !listed {
			assign(p.Name, []byte(p.Value))
		}
	}
	if err := checkKeys(owners); err != nil {
		return nil, err
	}
	return data, nil
}

func checkKeys(owners map[string][]string) error {
	var problems []string
	for key, names := range owners {
		if len(names) > 1 {
			sort.Strings(names)
			problems = append(problems, fmt.Sprintf("%s all map to Secret key %q", strings.Join(names, ", "), key))
		}
		if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
			problems = append(problems, fmt.Sprintf("%s maps to invalid Secret key %q: %s", names[0], key, strings.Join(errs, ", ")))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return &keyConflictError{problems: problems}
}

// fetchedValues are the parameters read for one SsmConfig.
type fetchedValues struct {
	// byName holds the spec's ssmKeys that SSM has, keyed as requested.
	byName map[string]ssmfetch.Parameter
	// fromPaths holds every parameter found under spec.ssmPaths.
	fromPaths []ssmfetch.Parameter
	// notFound lists the ssmKeys SSM does not have, sorted.
	notFound []string
}
