package awsemu

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// SSM Parameter Store quotas and defaults.
const (
	ssmMaxVersions         = 100
	ssmMaxLabelsPerVersion = 10
	ssmMaxHierarchyDepth   = 15
	ssmMaxNameLength       = 1011 // counted with the ARN prefix, as AWS does
	ssmMaxNamesPerCall     = 10
	ssmMaxPathResults      = 10
	ssmMaxDescribeResults  = 50
	ssmDefaultKeyID        = "alias/aws/ssm"
)

// Parameter types.
const (
	ParameterTypeString       = "String"
	ParameterTypeStringList   = "StringList"
	ParameterTypeSecureString = "SecureString"
)

type ssmService struct {
	env    *environment
	mu     sync.RWMutex
	params map[string]*ssmParameter
}

type ssmParameter struct {
	name     string
	versions []*ssmVersion // oldest first
}

type ssmVersion struct {
	number         int64
	value          string
	typ            string
	keyID          string
	description    string
	allowedPattern string
	dataType       string
	tier           string
	modified       time.Time
	modifiedBy     string
	labels         []string
}

func newSSMService(env *environment) *ssmService {
	return &ssmService{env: env, params: map[string]*ssmParameter{}}
}

func (s *ssmService) describe() *service {
	return &service{
		name:     ServiceSSM,
		protocol: jsonProtocol{},
		operations: map[string]operation{
			"PutParameter":          s.putParameter,
			"GetParameter":          s.getParameter,
			"GetParameters":         s.getParameters,
			"GetParametersByPath":   s.getParametersByPath,
			"DeleteParameter":       s.deleteParameter,
			"DeleteParameters":      s.deleteParameters,
			"LabelParameterVersion": s.labelParameterVersion,
			"DescribeParameters":    s.describeParameters,
		},
		errors: serviceErrorCodes{
			throttling:          "ThrottlingException",
			internal:            "InternalServerError",
			missingAuth:         "MissingAuthenticationTokenException",
			missingAuthMessage:  "Missing Authentication Token",
			incompleteSignature: "IncompleteSignatureException",
			wrongScope:          "InvalidSignatureException",
			unknownOperation:    "UnknownOperationException",
		},
	}
}

func ssmValidationError(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, "ValidationException", format, args...)
}

func parameterNotFound(name string) *apiError {
	return newAPIError(http.StatusBadRequest, "ParameterNotFound", "Parameter %s not found.", name)
}

func parameterVersionNotFound(name string, version int64) *apiError {
	return newAPIError(http.StatusBadRequest, "ParameterVersionNotFound", "Systems Manager could not find version %d of %s. Verify the version and try again.", version, name)
}

// Wire shapes.

type ssmParameterOutput struct {
	ARN              string
	DataType         string
	LastModifiedDate epochTime
	Name             string
	Selector         string `json:",omitempty"`
	Type             string
	Value            string
	Version          int64
}

type ssmParameterMetadataOutput struct {
	ARN              string
	AllowedPattern   string `json:",omitempty"`
	DataType         string
	Description      string `json:",omitempty"`
	KeyId            string `json:",omitempty"`
	LastModifiedDate epochTime
	LastModifiedUser string
	Name             string
	Tier             string
	Type             string
	Version          int64
}

func (s *ssmService) arn(name string) string {
	return "arn:" + s.env.partition + ":ssm:" + s.env.region + ":" + s.env.accountID + ":parameter/" + strings.TrimPrefix(name, "/")
}

func (s *ssmService) output(name string, v *ssmVersion, selector string, decrypt bool) ssmParameterOutput {
	value := v.value
	if v.typ == ParameterTypeSecureString && !decrypt {
		value = sealSecureString(v.keyID, name, v.number, v.value)
	}
	return ssmParameterOutput{
		ARN:              s.arn(name),
		DataType:         v.dataType,
		LastModifiedDate: epochTime(v.modified),
		Name:             name,
		Selector:         selector,
		Type:             v.typ,
		Value:            value,
		Version:          v.number,
	}
}

func (p *ssmParameter) latest() *ssmVersion { return p.versions[len(p.versions)-1] }

func (p *ssmParameter) version(number int64) *ssmVersion {
	for _, v := range p.versions {
		if v.number == number {
			return v
		}
	}
	return nil
}

func (p *ssmParameter) labelled(label string) *ssmVersion {
	for _, v := range p.versions {
		for _, l := range v.labels {
			if l == label {
				return v
			}
		}
	}
	return nil
}

type putParameterInput struct {
	Name           string
	Value          string
	Type           string
	Description    string
	KeyId          string
	AllowedPattern string
	Tier           string
	DataType       string
	Overwrite      bool
	Tags           []struct{ Key, Value string }
}

func (s *ssmService) putParameter(c *call) (any, error) {
	var in putParameterInput
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	version, tier, err := s.put(in, c.caller.arn)
	if err != nil {
		return nil, err
	}
	return struct {
		Version int64
		Tier    string
	}{version, tier}, nil
}

// put creates or overwrites a parameter; it backs PutParameter and seeding.
func (s *ssmService) put(in putParameterInput, modifiedBy string) (int64, string, error) {
	name := strings.TrimSpace(in.Name)
	if err := s.validateName(name); err != nil {
		return 0, "", err
	}
	if err := validatePutInput(&in); err != nil {
		return 0, "", err
	}
	if in.Overwrite && len(in.Tags) > 0 {
		return 0, "", ssmValidationError("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.params[name]
	var previous *ssmVersion
	switch {
	case p != nil && !in.Overwrite:
		return 0, "", newAPIError(http.StatusBadRequest, "ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	case p != nil:
		previous = p.latest()
	case in.Type == "":
		return 0, "", ssmValidationError("A parameter type is required when you create a parameter.")
	}
	next := &ssmVersion{
		number:         1,
		value:          in.Value,
		typ:            in.Type,
		keyID:          in.KeyId,
		description:    in.Description,
		allowedPattern: in.AllowedPattern,
		dataType:       in.DataType,
		tier:           in.Tier,
		modified:       s.env.now(),
		modifiedBy:     modifiedBy,
	}
	if previous != nil {
		if next.typ == "" {
			next.typ = previous.typ
		}
		if next.typ != previous.typ {
			return 0, "", newAPIError(http.StatusBadRequest, "HierarchyTypeMismatchException", "Parameter Store can't change a parameter's type from %s to %s. Create a new parameter instead.", previous.typ, next.typ)
		}
		next.number = previous.number + 1
		inherit(&next.description, previous.description)
		inherit(&next.allowedPattern, previous.allowedPattern)
		inherit(&next.keyID, previous.keyID)
	}
	if next.typ == ParameterTypeSecureString {
		inherit(&next.keyID, ssmDefaultKeyID)
	} else {
		next.keyID = ""
	}
	if err := checkAllowedPattern(next.allowedPattern, next.value); err != nil {
		return 0, "", err
	}
	if p == nil {
		p = &ssmParameter{name: name}
		s.params[name] = p
	}
	if len(p.versions) == ssmMaxVersions {
		oldest := p.versions[0]
		if len(oldest.labels) > 0 {
			return 0, "", newAPIError(http.StatusBadRequest, "ParameterMaxVersionLimitExceeded",
				"You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.", name, oldest.number)
		}
		p.versions = p.versions[1:]
	}
	p.versions = append(p.versions, next)
	return next.number, next.tier, nil
}

func inherit(field *string, fallback string) {
	if *field == "" {
		*field = fallback
	}
}

// validatePutInput checks the request fields and fills in defaults.
func validatePutInput(in *putParameterInput) *apiError {
	switch in.Type {
	case "", ParameterTypeString, ParameterTypeStringList, ParameterTypeSecureString:
	default:
		return ssmValidationError("%s", validationMessage(in.Type, "type", "Member must satisfy enum value set: [SecureString, StringList, String]"))
	}
	switch in.Tier {
	case "", "Standard", "Intelligent-Tiering":
		in.Tier = "Standard"
	case "Advanced":
	default:
		return ssmValidationError("%s", validationMessage(in.Tier, "tier", "Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]"))
	}
	switch in.DataType {
	case "":
		in.DataType = "text"
	case "text", "aws:ec2:image", "aws:ssm:integration":
	default:
		return ssmValidationError("The following data type is not supported: %s (Data type names are all lowercase.)", in.DataType)
	}
	limit := 4096
	if in.Tier == "Advanced" {
		limit = 8192
	}
	switch {
	case in.Value == "":
		return ssmValidationError("%s", validationMessage(in.Value, "value", "Member must have length greater than or equal to 1"))
	case len(in.Value) > limit:
		return ssmValidationError("%s tier parameters support a maximum parameter value of %d characters.", in.Tier, limit)
	case len(in.Description) > 1024:
		return ssmValidationError("%s", validationMessage(in.Description, "description", "Member must have length less than or equal to 1024"))
	}
	return nil
}

func checkAllowedPattern(pattern, value string) *apiError {
	if pattern == "" {
		return nil
	}
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		return newAPIError(http.StatusBadRequest, "InvalidAllowedPatternException", "The request does not meet the regular expression requirement: %v", err)
	}
	if !re.MatchString(value) {
		return newAPIError(http.StatusBadRequest, "ParameterPatternMismatchException", "Parameter value, cannot be validated against allowedPattern: %s", pattern)
	}
	return nil
}

func (s *ssmService) deleteParameter(c *call) (any, error) {
	var in struct{ Name string }
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.params[in.Name] == nil {
		return nil, parameterNotFound(in.Name)
	}
	delete(s.params, in.Name)
	return nil, nil
}

func (s *ssmService) deleteParameters(c *call) (any, error) {
	var in struct{ Names []string }
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := checkNameCount(in.Names); err != nil {
		return nil, err
	}
	out := struct {
		DeletedParameters []string
		InvalidParameters []string
	}{DeletedParameters: []string{}, InvalidParameters: []string{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range dedupe(in.Names) {
		if s.params[name] == nil {
			out.InvalidParameters = append(out.InvalidParameters, name)
			continue
		}
		delete(s.params, name)
		out.DeletedParameters = append(out.DeletedParameters, name)
	}
	return out, nil
}

func (s *ssmService) labelParameterVersion(c *call) (any, error) {
	var in struct {
		Name             string
		ParameterVersion *int64
		Labels           []string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if len(in.Labels) == 0 || len(in.Labels) > ssmMaxLabelsPerVersion {
		return nil, ssmValidationError("%s", validationMessage(in.Labels, "labels", "Member must have length between 1 and 10"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.params[in.Name]
	if p == nil {
		return nil, parameterNotFound(in.Name)
	}
	target := p.latest()
	if in.ParameterVersion != nil {
		if target = p.version(*in.ParameterVersion); target == nil {
			return nil, parameterVersionNotFound(p.name, *in.ParameterVersion)
		}
	}
	invalid := []string{}
	var valid []string
	for _, label := range dedupe(in.Labels) {
		if validLabel(label) {
			valid = append(valid, label)
		} else {
			invalid = append(invalid, label)
		}
	}
	merged := dedupe(append(append([]string{}, target.labels...), valid...))
	if len(merged) > ssmMaxLabelsPerVersion {
		return nil, newAPIError(http.StatusBadRequest, "ParameterVersionLabelLimitExceeded", "A parameter version can have maximum %d labels. Move one or more labels to another version and try again.", ssmMaxLabelsPerVersion)
	}
	// A label names one version: attaching it here moves it from any other.
	for _, v := range p.versions {
		if v != target {
			v.labels = slices.DeleteFunc(v.labels, func(l string) bool { return slices.Contains(valid, l) })
		}
	}
	target.labels = merged
	return struct {
		InvalidLabels    []string
		ParameterVersion int64
	}{invalid, target.number}, nil
}

// PutParameter creates or overwrites a parameter directly, for seeding.
func (e *Emulator) PutParameter(name, value, parameterType string) error {
	_, _, err := e.ssm.put(putParameterInput{Name: name, Value: value, Type: parameterType, Overwrite: true}, e.sts.caller.arn)
	return err
}
