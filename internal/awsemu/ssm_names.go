package awsemu

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Name rules: https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html

var parameterNameChars = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)

const parameterNameRules = `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`

func (s *ssmService) validateName(name string) *apiError {
	if name == "" {
		return ssmValidationError("%s", validationMessage(name, "name", "Member must have length greater than or equal to 1"))
	}
	if len(s.arn(name)) > ssmMaxNameLength {
		return ssmValidationError("Parameter name: %s exceeds the maximum length of %d characters, including the ARN prefix.", name, ssmMaxNameLength)
	}
	trimmed := strings.TrimPrefix(name, "/")
	lower := strings.ToLower(trimmed)
	if !parameterNameChars.MatchString(name) || strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") ||
		strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
		return ssmValidationError("%s", parameterNameRules)
	}
	if strings.Contains(trimmed, "/") && !strings.HasPrefix(name, "/") {
		return ssmValidationError("Parameter name must be a fully qualified name.")
	}
	if strings.Count(trimmed, "/")+1 > ssmMaxHierarchyDepth {
		return newAPIError(http.StatusBadRequest, "HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of %d levels.", ssmMaxHierarchyDepth)
	}
	return nil
}

// parameterRef is a parameter name as given to the Get APIs: a name or ARN,
// optionally followed by a :version or :label selector.
type parameterRef struct {
	name     string
	selector string // ":3" or ":label", empty for the latest version
	version  int64
	label    string
	fromARN  bool
}

func (s *ssmService) parseRef(ref string) parameterRef {
	arnPrefix := "arn:" + s.env.partition + ":ssm:" + s.env.region + ":" + s.env.accountID + ":parameter"
	rest, fromARN := strings.CutPrefix(ref, arnPrefix)
	name := ref
	if fromARN {
		name = rest
	}
	out := parameterRef{name: name, fromARN: fromARN}
	if i := strings.LastIndex(name, ":"); i >= 0 {
		out.name, out.selector = name[:i], name[i:]
		if n, err := strconv.ParseInt(name[i+1:], 10, 64); err == nil {
			out.version = n
		} else {
			out.label = name[i+1:]
		}
	}
	return out
}

func (s *ssmService) validatePath(path string) *apiError {
	if path == "/" {
		return nil
	}
	trimmed := strings.TrimSuffix(path, "/")
	if !strings.HasPrefix(path, "/") || s.validateName(trimmed) != nil {
		return ssmValidationError("The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.")
	}
	return nil
}

var labelChars = regexp.MustCompile(`^[a-zA-Z0-9_.\-]{1,100}$`)

// validLabel applies the label rules; invalid labels are reported, not failed.
func validLabel(label string) bool {
	lower := strings.ToLower(label)
	return labelChars.MatchString(label) && (label[0] < '0' || label[0] > '9') &&
		!strings.HasPrefix(lower, "aws") && !strings.HasPrefix(lower, "ssm")
}
