package irsa

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// defaultPolicyVersion is what IAM assumes when a document has no Version.
const defaultPolicyVersion = "2008-10-17"

// canonicalPolicy reduces a policy document to a canonical JSON string so
// that documents with the same meaning compare equal as strings.
func canonicalPolicy(document string) (string, error) {
	raw, err := decodePolicyDocument(document)
	if err != nil {
		return "", err
	}
	parsed, err := parseJSONObject(raw)
	if err != nil {
		return "", err
	}
	canonical, err := canonicalDocument(parsed)
	if err != nil {
		return "", err
	}
	encoded, err := json.Marshal(canonical)
	return string(encoded), err
}

// decodePolicyDocument URL-decodes documents as IAM returns them. Raw JSON is
// left alone, since decoding it would corrupt a literal '%' or '+'. AWS says
// the encoding can be undone with java.net.URLDecoder ('+' is a space), which
// is what QueryUnescape does.
func decodePolicyDocument(document string) (string, error) {
	trimmed := strings.TrimSpace(document)
	if strings.HasPrefix(trimmed, "{") {
		return trimmed, nil
	}
	decoded, err := url.QueryUnescape(trimmed)
	if err != nil {
		return "", fmt.Errorf("policy document is neither JSON nor URL-encoded JSON: %w", err)
	}
	return decoded, nil
}

func parseJSONObject(raw string) (map[string]any, error) {
	decoder := json.NewDecoder(strings.NewReader(raw))
	decoder.UseNumber()
	var object map[string]any
	if err := decoder.Decode(&object); err != nil {
		return nil, fmt.Errorf("policy document is not a JSON object: %w", err)
	}
	if _, err := decoder.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("policy document has data after the JSON object")
	}
	if object == nil {
		return nil, errors.New("policy document is null")
	}
	return object, nil
}

// canonicalDocument drops Id (a label, not a rule), defaults Version, and
// turns Statement into a sorted, de-duplicated list of canonical statements.
// Unknown keys are kept verbatim so that anything unexpected counts as a
// difference rather than being silently ignored.
func canonicalDocument(document map[string]any) (map[string]any, error) {
	canonical := maps.Clone(document)
	delete(canonical, "Id")
	if _, ok := canonical["Version"]; !ok {
		canonical["Version"] = defaultPolicyVersion
	}
	statements, err := asList(document["Statement"])
	if err != nil {
		return nil, fmt.Errorf("policy Statement: %w", err)
	}
	encoded := make([]string, 0, len(statements))
	for _, statement := range statements {
		object, ok := statement.(map[string]any)
		if !ok {
			return nil, errors.New("policy Statement entries must be objects")
		}
		text, err := canonicalStatement(object)
		if err != nil {
			return nil, err
		}
		encoded = append(encoded, text)
	}
	slices.Sort(encoded)
	canonical["Statement"] = slices.Compact(encoded)
	return canonical, nil
}

// canonicalStatement drops Sid and turns every value that IAM treats as a set
// (actions, resources, principals, condition values) into a sorted list.
func canonicalStatement(statement map[string]any) (string, error) {
	canonical := maps.Clone(statement)
	delete(canonical, "Sid")
	for key, value := range statement {
		var normalized any
		var err error
		switch key {
		case "Action", "NotAction", "Resource", "NotResource":
			normalized, err = stringSet(value)
		case "Principal", "NotPrincipal":
			normalized, err = canonicalPrincipal(value)
		case "Condition":
			normalized, err = canonicalCondition(value)
		default:
			continue
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", key, err)
		}
		canonical[key] = normalized
	}
	encoded, err := json.Marshal(canonical)
	return string(encoded), err
}

// canonicalPrincipal keeps the bare "*" form and normalises each principal
// type's value to a set.
func canonicalPrincipal(value any) (any, error) {
	if wildcard, ok := value.(string); ok {
		return wildcard, nil
	}
	return mapOfSets(value)
}

// canonicalCondition normalises {operator: {key: value(s)}}.
func canonicalCondition(value any) (any, error) {
	operators, ok := value.(map[string]any)
	if !ok {
		return nil, errors.New("must be an object")
	}
	canonical := make(map[string]any, len(operators))
	for operator, keys := range operators {
		normalized, err := mapOfSets(keys)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", operator, err)
		}
		canonical[operator] = normalized
	}
	return canonical, nil
}

func mapOfSets(value any) (map[string][]string, error) {
	object, ok := value.(map[string]any)
	if !ok {
		return nil, errors.New("must be an object")
	}
	canonical := make(map[string][]string, len(object))
	for key, values := range object {
		set, err := stringSet(values)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		canonical[key] = set
	}
	return canonical, nil
}

// stringSet accepts a scalar or a list of scalars and returns them as a
// sorted, de-duplicated list of strings. IAM compares condition values as
// strings, so true and "true" are the same value.
func stringSet(value any) ([]string, error) {
	items, err := asList(value)
	if err != nil {
		return nil, err
	}
	set := make([]string, 0, len(items))
	for _, item := range items {
		switch scalar := item.(type) {
		case string:
			set = append(set, scalar)
		case json.Number, bool:
			set = append(set, fmt.Sprint(scalar))
		default:
			return nil, errors.New("values must be strings, numbers or booleans")
		}
	}
	slices.Sort(set)
	return slices.Compact(set), nil
}

// asList treats a single value as a one-element list, as IAM does.
func asList(value any) ([]any, error) {
	switch v := value.(type) {
	case []any:
		return v, nil
	case nil:
		return nil, errors.New("missing")
	default:
		return []any{v}, nil
	}
}
