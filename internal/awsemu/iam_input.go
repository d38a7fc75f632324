package awsemu

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Request parameters shared by IAM operations.

var (
	iamNamePattern  = regexp.MustCompile(`^[\w+=,.@-]+$`)
	iamPathPattern  = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	tagKeyPattern   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValuePattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

func validateIAMName(value, field string, maxLength int) *apiError {
	if len(value) < 1 || len(value) > maxLength {
		return iamValidationError("%s", validationMessage(value, field, "Member must have length less than or equal to "+strconv.Itoa(maxLength)+" and greater than or equal to 1"))
	}
	if !iamNamePattern.MatchString(value) {
		return iamValidationError("%s", validationMessage(value, field, `Member must satisfy regular expression pattern: [\w+=,.@-]+`))
	}
	return nil
}

// pathParam reads an optional IAM path; absent means "/".
func pathParam(c *call) (string, *apiError) {
	if !c.hasParam("Path") {
		return "/", nil
	}
	return c.param("Path"), validateIAMPath(c.param("Path"))
}

func validateIAMPath(path string) *apiError {
	if len(path) > 512 || !iamPathPattern.MatchString(path) {
		return iamValidationError("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return nil
}

// tagsParam reads and validates Tags.member.N.Key/Value.
func tagsParam(c *call) ([]iamTag, *apiError) {
	var tags []iamTag
	for _, item := range c.structListParam("Tags", "Key", "Value") {
		tags = append(tags, iamTag{Key: item["Key"], Value: item["Value"]})
	}
	if len(tags) > iamMaxTags {
		return nil, limitExceeded("The number of tags has reached the maximum limit.")
	}
	for i, tag := range tags {
		switch {
		case len(tag.Key) < 1 || len(tag.Key) > 128 || !tagKeyPattern.MatchString(tag.Key):
			return nil, iamValidationError("%s", validationMessage(tag.Key, "tags."+strconv.Itoa(i+1)+".member.key", "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"))
		case len(tag.Value) > 256 || !tagValuePattern.MatchString(tag.Value):
			return nil, iamValidationError("%s", validationMessage(tag.Value, "tags."+strconv.Itoa(i+1)+".member.value", "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"))
		case strings.HasPrefix(strings.ToLower(tag.Key), "aws:"):
			return nil, invalidInput("User-defined tag keys can't start with 'aws:'.")
		}
		for _, other := range tags[:i] {
			if strings.EqualFold(other.Key, tag.Key) {
				return nil, invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
			}
		}
	}
	return tags, nil
}

// maxItemsParam reads MaxItems for IAM list calls.
func maxItemsParam(c *call) (int, *apiError) {
	n, err := c.intParam("MaxItems", iamDefaultMaxItems)
	if err != nil {
		return 0, err
	}
	if n < 1 || n > iamMaxMaxItems {
		return 0, iamValidationError("%s", validationMessage(n, "maxItems", "Member must have value between 1 and 1000"))
	}
	return n, nil
}

// pageOutput is the paging part of IAM list results.
type pageOutput struct {
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func page[T any](c *call, items []T, key func(T) string) ([]T, pageOutput, *apiError) {
	limit, err := maxItemsParam(c)
	if err != nil {
		return nil, pageOutput{}, err
	}
	sort.Slice(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
	out, next, pageErr := paginate(items, key, c.param("Marker"), limit)
	if pageErr != nil {
		return nil, pageOutput{}, iamValidationError("Invalid Marker.")
	}
	return out, pageOutput{IsTruncated: next != "", Marker: next}, nil
}

// withoutTagKeys drops tags whose keys match case-insensitively, as IAM
// treats tag keys.
func withoutTagKeys(tags []iamTag, keys []string) []iamTag {
	var kept []iamTag
	for _, tag := range tags {
		drop := false
		for _, key := range keys {
			drop = drop || strings.EqualFold(tag.Key, key)
		}
		if !drop {
			kept = append(kept, tag)
		}
	}
	return kept
}
