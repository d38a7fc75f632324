package awsemu

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// resolve finds the version a reference selects. Callers hold s.mu.
func (s *ssmService) resolve(ref parameterRef) (string, *ssmVersion, *apiError) {
	p := s.params[ref.name]
	if p == nil && ref.fromARN {
		// ARNs read "parameter/name" for both "name" and "/name".
		p = s.params[strings.TrimPrefix(ref.name, "/")]
	}
	switch {
	case p == nil:
		return "", nil, parameterNotFound(ref.name)
	case ref.version != 0:
		if v := p.version(ref.version); v != nil {
			return p.name, v, nil
		}
		return "", nil, parameterVersionNotFound(p.name, ref.version)
	case ref.label != "":
		if v := p.labelled(ref.label); v != nil {
			return p.name, v, nil
		}
		return "", nil, parameterNotFound(ref.name + ref.selector)
	}
	return p.name, p.latest(), nil
}

func (s *ssmService) getParameter(c *call) (any, error) {
	var in struct {
		Name           string
		WithDecryption bool
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	ref := s.parseRef(in.Name)
	s.mu.RLock()
	defer s.mu.RUnlock()
	name, v, err := s.resolve(ref)
	if err != nil {
		return nil, err
	}
	return struct{ Parameter ssmParameterOutput }{s.output(name, v, ref.selector, in.WithDecryption)}, nil
}

func (s *ssmService) getParameters(c *call) (any, error) {
	var in struct {
		Names          []string
		WithDecryption bool
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := checkNameCount(in.Names); err != nil {
		return nil, err
	}
	out := struct {
		Parameters        []ssmParameterOutput
		InvalidParameters []string
	}{Parameters: []ssmParameterOutput{}, InvalidParameters: []string{}}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, requested := range dedupe(in.Names) {
		ref := s.parseRef(requested)
		if name, v, err := s.resolve(ref); err == nil {
			out.Parameters = append(out.Parameters, s.output(name, v, ref.selector, in.WithDecryption))
		} else {
			out.InvalidParameters = append(out.InvalidParameters, requested)
		}
	}
	return out, nil
}

func checkNameCount(names []string) *apiError {
	switch {
	case len(names) == 0:
		return ssmValidationError("%s", validationMessage("[]", "names", "Member must have length greater than or equal to 1"))
	case len(names) > ssmMaxNamesPerCall:
		return ssmValidationError("%s", validationMessage("["+strings.Join(names, ", ")+"]", "names", "Member must have length less than or equal to 10"))
	}
	return nil
}

func dedupe(values []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(values))
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// checkPageSize validates MaxResults; absent means max.
func checkPageSize(requested *int64, limit int) (int, *apiError) {
	switch {
	case requested == nil:
		return limit, nil
	case *requested < 1:
		return 0, ssmValidationError("%s", validationMessage(*requested, "maxResults", "Member must have value greater than or equal to 1"))
	case *requested > int64(limit):
		return 0, ssmValidationError("%s", validationMessage(*requested, "maxResults", "Member must have value less than or equal to "+strconv.Itoa(limit)))
	}
	return int(*requested), nil
}

// rejectFilters refuses filter parameters the emulator does not evaluate,
// rather than silently returning unfiltered results.
func rejectFilters(filters []any) *apiError {
	if len(filters) > 0 {
		return ssmValidationError("awsemu does not emulate parameter filters")
	}
	return nil
}

// sortedNames lists parameter names in lexical order. Callers hold s.mu.
func (s *ssmService) sortedNames(include func(name string) bool) []string {
	names := make([]string, 0, len(s.params))
	for name := range s.params {
		if include(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func (s *ssmService) getParametersByPath(c *call) (any, error) {
	var in struct {
		Path             string
		Recursive        bool
		WithDecryption   bool
		MaxResults       *int64
		NextToken        string
		ParameterFilters []any
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	limit, apiErr := checkPageSize(in.MaxResults, ssmMaxPathResults)
	if apiErr != nil {
		return nil, apiErr
	}
	if err := rejectFilters(in.ParameterFilters); err != nil {
		return nil, err
	}
	if err := s.validatePath(in.Path); err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(in.Path, "/") + "/"
	under := func(name string) bool {
		rest, ok := strings.CutPrefix(name, prefix)
		return ok && rest != "" && (in.Recursive || !strings.Contains(rest, "/"))
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	page, next, err := paginate(s.sortedNames(under), func(n string) string { return n }, in.NextToken, limit)
	if err != nil {
		return nil, newAPIError(http.StatusBadRequest, "InvalidNextToken", "The specified token isn't valid.")
	}
	out := struct {
		Parameters []ssmParameterOutput
		NextToken  string `json:",omitempty"`
	}{Parameters: make([]ssmParameterOutput, 0, len(page)), NextToken: next}
	for _, name := range page {
		out.Parameters = append(out.Parameters, s.output(name, s.params[name].latest(), "", in.WithDecryption))
	}
	return out, nil
}

func (s *ssmService) describeParameters(c *call) (any, error) {
	var in struct {
		MaxResults       *int64
		NextToken        string
		Filters          []any
		ParameterFilters []any
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	limit, apiErr := checkPageSize(in.MaxResults, ssmMaxDescribeResults)
	if apiErr != nil {
		return nil, apiErr
	}
	if err := rejectFilters(append(in.Filters, in.ParameterFilters...)); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := s.sortedNames(func(string) bool { return true })
	page, next, err := paginate(all, func(n string) string { return n }, in.NextToken, limit)
	if err != nil {
		return nil, newAPIError(http.StatusBadRequest, "InvalidNextToken", "The specified token isn't valid.")
	}
	out := struct {
		Parameters []ssmParameterMetadataOutput
		NextToken  string `json:",omitempty"`
	}{Parameters: make([]ssmParameterMetadataOutput, 0, len(page)), NextToken: next}
	for _, name := range page {
		v := s.params[name].latest()
		out.Parameters = append(out.Parameters, ssmParameterMetadataOutput{
			ARN:              s.arn(name),
			AllowedPattern:   v.allowedPattern,
			DataType:         v.dataType,
			Description:      v.description,
			KeyId:            v.keyID,
			LastModifiedDate: epochTime(v.modified),
			LastModifiedUser: v.modifiedBy,
			Name:             name,
			Tier:             v.tier,
			Type:             v.typ,
			Version:          v.number,
		})
	}
	return out, nil
}
