package awsemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// policyKind selects the grammar a policy document must follow.
type policyKind int

const (
	// identityPolicy is a permissions policy or boundary: it names
	// resources and must not name a principal.
	identityPolicy policyKind = iota
	// trustPolicy is a role's AssumeRolePolicyDocument: it names
	// principals and must not name resources.
	trustPolicy
)

type policyDocument struct {
	statements []policyStatement
}

type policyStatement struct {
	effect       string
	anyPrincipal bool
	principals   map[string][]string // principal type (AWS, Service, Federated, CanonicalUser) -> IDs
	actions      []string
	notActions   []string
	conditions   []condition
}

type condition struct {
	operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	key      string // lower case: condition keys are case-insensitive
	values   []string
}

func malformedPolicy(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, "MalformedPolicyDocument", format, args...)
}

var (
	errSyntax       = malformedPolicy("Syntax errors in policy.")
	actionPattern   = regexp.MustCompile(`^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$`)
	principalTypes  = []string{"AWS", "Service", "Federated", "CanonicalUser"}
	statementFields = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)

// conditionOperators are the IAM condition operators without the
// ForAnyValue:/ForAllValues: qualifiers and the IfExists suffix; negated
// operators map to the operator they negate.
var conditionOperators = map[string]string{
	"StringEquals": "", "StringNotEquals": "StringEquals",
	"StringEqualsIgnoreCase": "", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
	"StringLike": "", "StringNotLike": "StringLike",
	"NumericEquals": "", "NumericNotEquals": "NumericEquals",
	"NumericLessThan": "", "NumericLessThanEquals": "", "NumericGreaterThan": "", "NumericGreaterThanEquals": "",
	"DateEquals": "", "DateNotEquals": "DateEquals",
	"DateLessThan": "", "DateLessThanEquals": "", "DateGreaterThan": "", "DateGreaterThanEquals": "",
	"Bool": "", "BinaryEquals": "", "Null": "",
	"IpAddress": "", "NotIpAddress": "IpAddress",
	"ArnEquals": "", "ArnNotEquals": "ArnEquals", "ArnLike": "", "ArnNotLike": "ArnLike",
}

// parsePolicy validates a policy document against the IAM policy grammar.
func parsePolicy(document string, kind policyKind) (*policyDocument, *apiError) {
	var top map[string]json.RawMessage
	if err := decodeStrictJSON(document, &top); err != nil || top == nil {
		return nil, malformedPolicy("This policy contains invalid Json")
	}
	for field := range top {
		if field != "Version" && field != "Id" && field != "Statement" {
			return nil, errSyntax
		}
	}
	if raw, ok := top["Version"]; ok {
		var version string
		if json.Unmarshal(raw, &version) != nil || (version != "2012-10-17" && version != "2008-10-17") {
			return nil, malformedPolicy("The policy failed legacy parsing")
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, errSyntax
	}
	var rawStatements []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if json.Unmarshal(raw, &rawStatements) != nil {
			return nil, errSyntax
		}
	} else {
		rawStatements = []json.RawMessage{raw}
	}
	if len(rawStatements) == 0 {
		return nil, errSyntax
	}
	doc := &policyDocument{}
	for _, rawStatement := range rawStatements {
		st, err := parseStatement(rawStatement, kind)
		if err != nil {
			return nil, err
		}
		doc.statements = append(doc.statements, st)
	}
	return doc, nil
}

// decodeStrictJSON decodes exactly one JSON value, keeping numbers as text.
func decodeStrictJSON(document string, v any) error {
	dec := json.NewDecoder(strings.NewReader(document))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

func parseStatement(raw json.RawMessage, kind policyKind) (policyStatement, *apiError) {
	var fields map[string]json.RawMessage
	if err := decodeStrictJSON(string(raw), &fields); err != nil || fields == nil {
		return policyStatement{}, errSyntax
	}
	for field := range fields {
		if !slices.Contains(statementFields, field) {
			return policyStatement{}, errSyntax
		}
	}
	var st policyStatement
	if json.Unmarshal(fields["Effect"], &st.effect) != nil || (st.effect != "Allow" && st.effect != "Deny") {
		return st, errSyntax
	}

	_, hasAction := fields["Action"]
	_, hasNotAction := fields["NotAction"]
	switch {
	case hasAction && hasNotAction:
		return st, errSyntax
	case !hasAction && !hasNotAction:
		return st, malformedPolicy("Policy statement must contain actions.")
	}
	var err *apiError
	if st.actions, err = parseActions(fields["Action"], hasAction); err != nil {
		return st, err
	}
	if st.notActions, err = parseActions(fields["NotAction"], hasNotAction); err != nil {
		return st, err
	}

	_, hasResource := fields["Resource"]
	_, hasNotResource := fields["NotResource"]
	_, hasPrincipal := fields["Principal"]
	_, hasNotPrincipal := fields["NotPrincipal"]
	switch kind {
	case identityPolicy:
		if hasPrincipal || hasNotPrincipal {
			return st, malformedPolicy("Policy document should not specify a principal.")
		}
		if !hasResource && !hasNotResource {
			return st, malformedPolicy("Policy statement must contain resources.")
		}
		if _, err := stringOrList(fields["Resource"], hasResource); err != nil {
			return st, err
		}
		if _, err := stringOrList(fields["NotResource"], hasNotResource); err != nil {
			return st, err
		}
	case trustPolicy:
		if hasResource || hasNotResource {
			return st, malformedPolicy("Has prohibited field Resource")
		}
		if hasNotPrincipal {
			return st, malformedPolicy("Has prohibited field NotPrincipal")
		}
		if !hasPrincipal {
			return st, malformedPolicy("Missing required field Principal")
		}
		if err := st.parsePrincipal(fields["Principal"]); err != nil {
			return st, err
		}
	}

	if raw, ok := fields["Condition"]; ok {
		if st.conditions, err = parseConditions(raw); err != nil {
			return st, err
		}
	}
	return st, nil
}

// stringOrList reads a policy element that may be a string or a list of
// strings; an absent element yields nil.
func stringOrList(raw json.RawMessage, present bool) ([]string, *apiError) {
	if !present {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil || len(many) == 0 {
		return nil, errSyntax
	}
	return many, nil
}

func parseActions(raw json.RawMessage, present bool) ([]string, *apiError) {
	actions, err := stringOrList(raw, present)
	if err != nil {
		return nil, err
	}
	for _, action := range actions {
		if action != "*" && !actionPattern.MatchString(action) {
			return nil, malformedPolicy("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
		}
	}
	return actions, nil
}

func (st *policyStatement) parsePrincipal(raw json.RawMessage) *apiError {
	var wildcard string
	if json.Unmarshal(raw, &wildcard) == nil {
		if wildcard != "*" {
			return malformedPolicy("Invalid principal in policy: %q", wildcard)
		}
		st.anyPrincipal = true
		return nil
	}
	var byType map[string]json.RawMessage
	if json.Unmarshal(raw, &byType) != nil || len(byType) == 0 {
		return errSyntax
	}
	st.principals = map[string][]string{}
	for _, typ := range slices.Sorted(maps.Keys(byType)) {
		ids := byType[typ]
		if !slices.Contains(principalTypes, typ) {
			return malformedPolicy("Invalid principal in policy: %q", typ)
		}
		values, err := stringOrList(ids, true)
		if err != nil {
			return err
		}
		st.principals[typ] = values
	}
	return nil
}

func parseConditions(raw json.RawMessage) ([]condition, *apiError) {
	var byOperator map[string]map[string]json.RawMessage
	if err := decodeStrictJSON(string(raw), &byOperator); err != nil {
		return nil, errSyntax
	}
	// Sorted so that the first error reported does not depend on map order.
	var conditions []condition
	for _, operator := range slices.Sorted(maps.Keys(byOperator)) {
		byKey := byOperator[operator]
		if _, ok := conditionOperators[baseOperator(operator)]; !ok {
			return nil, malformedPolicy("Invalid Condition type : %s", operator)
		}
		for _, key := range slices.Sorted(maps.Keys(byKey)) {
			values, err := conditionValues(byKey[key])
			if err != nil {
				return nil, err
			}
			conditions = append(conditions, condition{operator: operator, key: strings.ToLower(key), values: values})
		}
	}
	return conditions, nil
}

// conditionValues reads a condition's value: a scalar or a list of scalars.
func conditionValues(raw json.RawMessage) ([]string, *apiError) {
	var list []any
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if decodeStrictJSON(string(raw), &list) != nil || len(list) == 0 {
			return nil, errSyntax
		}
	} else {
		var one any
		if decodeStrictJSON(string(raw), &one) != nil {
			return nil, errSyntax
		}
		list = []any{one}
	}
	values := make([]string, 0, len(list))
	for _, v := range list {
		switch v := v.(type) {
		case string:
			values = append(values, v)
		case json.Number:
			values = append(values, v.String())
		case bool:
			values = append(values, strconv.FormatBool(v))
		default:
			return nil, errSyntax
		}
	}
	return values, nil
}

// baseOperator strips the set qualifier and the IfExists suffix.
func baseOperator(operator string) string {
	_, op, qualified := strings.Cut(operator, ":")
	if !qualified {
		op = operator
	}
	if op == "Null" {
		return op
	}
	return strings.TrimSuffix(op, "IfExists")
}

// policySize is a policy's size as IAM counts it against quotas: without
// whitespace.
func policySize(document string) int {
	n := 0
	for _, r := range document {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// requestContext is what a policy is evaluated against.
type requestContext struct {
	action        string
	principalType string
	principal     string
	keys          map[string][]string // lower-case condition keys
}

// allows evaluates the document as IAM does within one policy: an applicable
// Deny wins, otherwise an applicable Allow grants, otherwise implicit deny.
func (d *policyDocument) allows(rc requestContext) bool {
	allowed := false
	for _, st := range d.statements {
		if !st.applies(rc) {
			continue
		}
		if st.effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

func (st *policyStatement) applies(rc requestContext) bool {
	if st.actions != nil && !matchesAnyAction(st.actions, rc.action) {
		return false
	}
	if st.notActions != nil && matchesAnyAction(st.notActions, rc.action) {
		return false
	}
	if st.principals != nil && !slices.Contains(st.principals[rc.principalType], rc.principal) && !slices.Contains(st.principals[rc.principalType], "*") {
		return false
	}
	for _, cond := range st.conditions {
		if !cond.holds(rc.keys) {
			return false
		}
	}
	return true
}

func matchesAnyAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if globMatch(strings.ToLower(p), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

// holds evaluates one condition key under one operator.
func (cond condition) holds(keys map[string][]string) bool {
	qualifier, operator, qualified := strings.Cut(cond.operator, ":")
	if !qualified {
		qualifier, operator = "", cond.operator
	}
	contextValues := keys[cond.key]
	if operator == "Null" {
		wantAbsent := len(cond.values) > 0 && strings.EqualFold(cond.values[0], "true")
		return (len(contextValues) == 0) == wantAbsent
	}
	ifExists := strings.HasSuffix(operator, "IfExists")
	operator = strings.TrimSuffix(operator, "IfExists")
	negates, negated := conditionOperators[operator], conditionOperators[operator] != ""
	if len(contextValues) == 0 {
		// A missing key fails positive operators and satisfies negated ones.
		return ifExists || qualifier == "ForAllValues" || negated
	}
	matches := func(contextValue string) bool {
		if negated {
			return !anyConditionValueMatches(negates, contextValue, cond.values)
		}
		return anyConditionValueMatches(operator, contextValue, cond.values)
	}
	if qualifier == "ForAllValues" {
		for _, v := range contextValues {
			if !matches(v) {
				return false
			}
		}
		return true
	}
	for _, v := range contextValues {
		if matches(v) {
			return true
		}
	}
	return false
}

func anyConditionValueMatches(operator, contextValue string, policyValues []string) bool {
	for _, policyValue := range policyValues {
		if conditionMatch(operator, contextValue, policyValue) {
			return true
		}
	}
	return false
}

// conditionMatch applies a positive operator to one pair of values; values
// that do not parse for the operator's type do not match.
func conditionMatch(operator, contextValue, policyValue string) bool {
	switch {
	case operator == "StringEquals" || operator == "BinaryEquals":
		return contextValue == policyValue
	case operator == "StringEqualsIgnoreCase" || operator == "Bool":
		return strings.EqualFold(contextValue, policyValue)
	case operator == "StringLike" || operator == "ArnLike" || operator == "ArnEquals":
		return globMatch(policyValue, contextValue)
	case operator == "IpAddress":
		return ipInRange(contextValue, policyValue)
	case strings.HasPrefix(operator, "Numeric"):
		a, errA := strconv.ParseFloat(contextValue, 64)
		b, errB := strconv.ParseFloat(policyValue, 64)
		return errA == nil && errB == nil && compareOrdered(strings.TrimPrefix(operator, "Numeric"), a, b)
	case strings.HasPrefix(operator, "Date"):
		a, okA := parseConditionDate(contextValue)
		b, okB := parseConditionDate(policyValue)
		return okA && okB && compareOrdered(strings.TrimPrefix(operator, "Date"), a.UnixNano(), b.UnixNano())
	}
	return false
}

func compareOrdered[T int64 | float64](comparison string, a, b T) bool {
	switch comparison {
	case "Equals":
		return a == b
	case "LessThan":
		return a < b
	case "LessThanEquals":
		return a <= b
	case "GreaterThan":
		return a > b
	case "GreaterThanEquals":
		return a >= b
	}
	return false
}

func parseConditionDate(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(secs, 0), true
	}
	return time.Time{}, false
}

func ipInRange(address, cidr string) bool {
	addr, err := netip.ParseAddr(address)
	if err != nil {
		return false
	}
	if prefix, err := netip.ParsePrefix(cidr); err == nil {
		return prefix.Contains(addr)
	}
	single, err := netip.ParseAddr(cidr)
	return err == nil && single == addr
}

// globMatch matches IAM wildcards: * any run of characters, ? exactly one.
func globMatch(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	pi, si := 0, 0
	star, resume := -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, resume = pi, si
			pi++
		case star >= 0:
			resume++
			pi, si = star+1, resume
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
