package awsemu

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	iamNamespace             = "https://iam.amazonaws.com/doc/2010-05-08/"
	iamVersion               = "2010-05-08"
	iamMaxTags               = 50
	iamDefaultSessionSeconds = 3600
	iamMaxSessionSeconds     = 43200
	iamDefaultMaxItems       = 100
	iamMaxMaxItems           = 1000
)

type iamService struct {
	env                  *environment
	maxPoliciesPerRole   int
	trustPolicySizeLimit int

	mu               sync.RWMutex
	propagationDelay time.Duration
	roles            map[string]*iamRole      // by lower-case name: IAM names are case-insensitive
	policies         map[string]*iamPolicy    // by ARN
	oidcProviders    map[string]*oidcProvider // by ARN
}

type iamRole struct {
	name               string
	path               string
	id                 string
	arn                string
	description        string
	created            time.Time
	lastUsed           time.Time
	trustDocument      string
	trust              *policyDocument
	maxSessionDuration int
	boundaryARN        string
	tags               []iamTag
	attached           []string // policy ARNs
}

// iamTag is both the stored tag and its wire shape.
type iamTag struct {
	Key   string
	Value string
}

func newIAMService(env *environment, maxPoliciesPerRole, trustPolicySizeLimit int) *iamService {
	s := &iamService{
		env:                  env,
		maxPoliciesPerRole:   maxPoliciesPerRole,
		trustPolicySizeLimit: trustPolicySizeLimit,
		roles:                map[string]*iamRole{},
		policies:             map[string]*iamPolicy{},
		oidcProviders:        map[string]*oidcProvider{},
	}
	s.addManagedPolicyCatalogue()
	return s
}

func (s *iamService) describe() *service {
	return &service{
		name:     ServiceIAM,
		protocol: queryProtocol{namespace: iamNamespace},
		version:  iamVersion,
		operations: map[string]operation{
			"CreateRole":                    s.createRole,
			"GetRole":                       s.getRole,
			"DeleteRole":                    s.deleteRole,
			"UpdateAssumeRolePolicy":        s.updateAssumeRolePolicy,
			"AttachRolePolicy":              s.attachRolePolicy,
			"DetachRolePolicy":              s.detachRolePolicy,
			"ListAttachedRolePolicies":      s.listAttachedRolePolicies,
			"PutRolePermissionsBoundary":    s.putRolePermissionsBoundary,
			"DeleteRolePermissionsBoundary": s.deleteRolePermissionsBoundary,
			"TagRole":                       s.tagRole,
			"UntagRole":                     s.untagRole,
			"ListRoleTags":                  s.listRoleTags,
			"CreatePolicy":                  s.createPolicy,
			"GetPolicy":                     s.getPolicy,
			"CreateOpenIDConnectProvider":   s.createOpenIDConnectProvider,
			"GetOpenIDConnectProvider":      s.getOpenIDConnectProvider,
			"ListOpenIDConnectProviders":    s.listOpenIDConnectProviders,
			"DeleteOpenIDConnectProvider":   s.deleteOpenIDConnectProvider,
		},
		errors: queryServiceErrors("ServiceFailure"),
	}
}

// queryServiceErrors are the dispatcher's error codes for awsQuery services.
func queryServiceErrors(internal string) serviceErrorCodes {
	return serviceErrorCodes{
		throttling:          "Throttling",
		internal:            internal,
		missingAuth:         "MissingAuthenticationToken",
		missingAuthMessage:  "Request is missing Authentication Token",
		incompleteSignature: "IncompleteSignature",
		wrongScope:          "SignatureDoesNotMatch",
		unknownOperation:    "InvalidAction",
	}
}

func (s *iamService) setPropagationDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.propagationDelay = d
}

// IAM errors.

func noSuchEntity(format string, args ...any) *apiError {
	return newAPIError(http.StatusNotFound, "NoSuchEntity", format, args...)
}

func iamValidationError(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, "ValidationError", format, args...)
}

func invalidInput(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, "InvalidInput", format, args...)
}

func limitExceeded(format string, args ...any) *apiError {
	return newAPIError(http.StatusConflict, "LimitExceeded", format, args...)
}

func noSuchRole(name string) *apiError {
	return noSuchEntity("The role with name %s cannot be found.", name)
}

// checkTrustPolicy validates a role trust policy and its size quota.
func (s *iamService) checkTrustPolicy(document string) (*policyDocument, *apiError) {
	if document == "" {
		return nil, iamValidationError("%s", validationMessage("", "assumeRolePolicyDocument", "Member must have length greater than or equal to 1"))
	}
	if policySize(document) > s.trustPolicySizeLimit {
		return nil, limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", s.trustPolicySizeLimit)
	}
	return parsePolicy(document, trustPolicy)
}

// Role lookups. Callers hold s.mu.

// role returns a role unless it is missing or, with eventual consistency
// switched on, too new to have propagated.
func (s *iamService) role(name string) (*iamRole, *apiError) {
	r := s.roles[strings.ToLower(name)]
	if r == nil || s.env.now().Before(r.created.Add(s.propagationDelay)) {
		return nil, noSuchRole(name)
	}
	return r, nil
}

// attachablePolicy resolves a policy ARN for attachment or as a boundary.
func (s *iamService) attachablePolicy(arn string) (*iamPolicy, *apiError) {
	if p := s.policies[arn]; p != nil {
		return p, nil
	}
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":policy/") {
		return nil, invalidInput("ARN %s is not valid.", arn)
	}
	return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
}

// Wire shapes.

type roleOutput struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               isoTime
	AssumeRolePolicyDocument string
	Description              string `xml:",omitempty"`
	MaxSessionDuration       int
	PermissionsBoundary      *boundaryOutput `xml:",omitempty"`
	Tags                     []iamTag        `xml:"Tags>member"`
	RoleLastUsed             *roleLastUsedOutput
}

type boundaryOutput struct {
	PermissionsBoundaryType string
	PermissionsBoundaryArn  string
}

type roleLastUsedOutput struct {
	LastUsedDate *isoTime `xml:",omitempty"`
	Region       string   `xml:",omitempty"`
}

type roleResult struct {
	Role roleOutput
}

func (s *iamService) output(r *iamRole) roleOutput {
	out := roleOutput{
		Path:     r.path,
		RoleName: r.name,
		RoleId:   r.id,
		Arn:      r.arn,
		// IAM returns policy documents URL-encoded (RFC 3986).
		AssumeRolePolicyDocument: strings.ReplaceAll(url.QueryEscape(r.trustDocument), "+", "%20"),
		CreateDate:               isoTime(r.created),
		Description:              r.description,
		MaxSessionDuration:       r.maxSessionDuration,
		Tags:                     r.tags,
		RoleLastUsed:             &roleLastUsedOutput{},
	}
	if r.boundaryARN != "" {
		out.PermissionsBoundary = &boundaryOutput{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: r.boundaryARN}
	}
	if !r.lastUsed.IsZero() {
		used := isoTime(r.lastUsed)
		out.RoleLastUsed = &roleLastUsedOutput{LastUsedDate: &used, Region: s.env.region}
	}
	return out
}

// Operations.

func (s *iamService) createRole(c *call) (any, error) {
	name := c.param("RoleName")
	if err := validateIAMName(name, "roleName", 64); err != nil {
		return nil, err
	}
	path, err := pathParam(c)
	if err != nil {
		return nil, err
	}
	trust, err := s.checkTrustPolicy(c.param("AssumeRolePolicyDocument"))
	if err != nil {
		return nil, err
	}
	description := c.param("Description")
	if len(description) > 1000 {
		return nil, iamValidationError("%s", validationMessage(description, "description", "Member must have length less than or equal to 1000"))
	}
	maxSession, err := c.intParam("MaxSessionDuration", iamDefaultSessionSeconds)
	if err != nil {
		return nil, err
	}
	if maxSession < iamDefaultSessionSeconds || maxSession > iamMaxSessionSeconds {
		return nil, iamValidationError("%s", validationMessage(maxSession, "maxSessionDuration", "Member must have value between 3600 and 43200"))
	}
	tags, err := tagsParam(c)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	boundaryARN := c.param("PermissionsBoundary")
	var boundary *iamPolicy
	if boundaryARN != "" {
		if boundary, err = s.boundaryPolicy(boundaryARN); err != nil {
			return nil, err
		}
	}
	if s.roles[strings.ToLower(name)] != nil {
		return nil, newAPIError(http.StatusConflict, "EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	r := &iamRole{
		name:               name,
		path:               path,
		id:                 s.env.ids.uniqueID("AROA"),
		arn:                "arn:" + s.env.partition + ":iam::" + s.env.accountID + ":role" + path + name,
		description:        description,
		created:            s.env.now(),
		trustDocument:      c.param("AssumeRolePolicyDocument"),
		trust:              trust,
		maxSessionDuration: maxSession,
		boundaryARN:        boundaryARN,
		tags:               tags,
	}
	if boundary != nil {
		boundary.boundaryUsageCount++
	}
	s.roles[strings.ToLower(name)] = r
	return roleResult{s.output(r)}, nil
}

func (s *iamService) getRole(c *call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, err := s.role(c.param("RoleName"))
	if err != nil {
		return nil, err
	}
	return roleResult{s.output(r)}, nil
}

func (s *iamService) deleteRole(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.role(c.param("RoleName"))
	if err != nil {
		return nil, err
	}
	if len(r.attached) > 0 {
		return nil, newAPIError(http.StatusConflict, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	}
	s.setBoundary(r, "")
	delete(s.roles, strings.ToLower(r.name))
	return nil, nil
}

func (s *iamService) updateAssumeRolePolicy(c *call) (any, error) {
	trust, err := s.checkTrustPolicy(c.param("PolicyDocument"))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.role(c.param("RoleName"))
	if err != nil {
		return nil, err
	}
	r.trustDocument, r.trust = c.param("PolicyDocument"), trust
	return nil, nil
}

func (s *iamService) attachRolePolicy(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.role(c.param("RoleName"))
	if err != nil {
		return nil, err
	}
	p, err := s.attachablePolicy(c.param("PolicyArn"))
	if err != nil {
		return nil, err
	}
	if slices.Contains(r.attached, p.arn) {
		return nil, nil
	}
	if len(r.attached) >= s.maxPoliciesPerRole {
		return nil, limitExceeded("Cannot exceed quota for PoliciesPerRole: %d", s.maxPoliciesPerRole)
	}
	r.attached = append(r.attached, p.arn)
	p.attachmentCount++
	return nil, nil
}

func (s *iamService) detachRolePolicy(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.role(c.param("RoleName"))
	if err != nil {
		return nil, err
	}
	arn := c.param("PolicyArn")
	if !slices.Contains(r.attached, arn) {
		return nil, noSuchEntity("Policy %s was not found.", arn)
	}
	r.attached = slices.DeleteFunc(r.attached, func(a string) bool { return a == arn })
	if p := s.policies[arn]; p != nil {
		p.attachmentCount--
	}
	return nil, nil
}

type attachedPolicyOutput struct {
	PolicyName string
	PolicyArn  string
}

func (s *iamService) listAttachedRolePolicies(c *call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, err := s.role(c.param("RoleName"))
	if err != nil {
		return nil, err
	}
	prefix := c.param("PathPrefix")
	var attached []attachedPolicyOutput
	for _, arn := range r.attached {
		if p := s.policies[arn]; p != nil && strings.HasPrefix(p.path, prefix) {
			attached = append(attached, attachedPolicyOutput{PolicyName: p.name, PolicyArn: p.arn})
		}
	}
	items, paging, err := page(c, attached, func(a attachedPolicyOutput) string { return a.PolicyArn })
	if err != nil {
		return nil, err
	}
	return struct {
		AttachedPolicies []attachedPolicyOutput `xml:"AttachedPolicies>member"`
		pageOutput
	}{items, paging}, nil
}

// boundaryPolicy resolves a permissions boundary ARN. Callers hold s.mu.
func (s *iamService) boundaryPolicy(arn string) (*iamPolicy, *apiError) {
	p, err := s.attachablePolicy(arn)
	if err != nil && err.code == "NoSuchEntity" {
		return nil, noSuchEntity("Scope ARN: %s does not exist or is not attachable.", arn)
	}
	return p, err
}

// setBoundary replaces a role's boundary, keeping usage counts right.
func (s *iamService) setBoundary(r *iamRole, arn string) {
	if old := s.policies[r.boundaryARN]; old != nil {
		old.boundaryUsageCount--
	}
	if p := s.policies[arn]; p != nil {
		p.boundaryUsageCount++
	}
	r.boundaryARN = arn
}

func (s *iamService) putRolePermissionsBoundary(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.role(c.param("RoleName"))
	if err != nil {
		return nil, err
	}
	p, err := s.boundaryPolicy(c.param("PermissionsBoundary"))
	if err != nil {
		return nil, err
	}
	s.setBoundary(r, p.arn)
	return nil, nil
}

func (s *iamService) deleteRolePermissionsBoundary(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.role(c.param("RoleName"))
	if err != nil {
		return nil, err
	}
	s.setBoundary(r, "")
	return nil, nil
}

func (s *iamService) tagRole(c *call) (any, error) {
	tags, apiErr := tagsParam(c)
	if apiErr != nil {
		return nil, apiErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.role(c.param("RoleName"))
	if err != nil {
		return nil, err
	}
	merged := append([]iamTag{}, r.tags...)
	for _, tag := range tags {
		merged = append(withoutTagKeys(merged, []string{tag.Key}), tag)
	}
	if len(merged) > iamMaxTags {
		return nil, limitExceeded("The number of tags has reached the maximum limit.")
	}
	r.tags = merged
	return nil, nil
}

func (s *iamService) untagRole(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.role(c.param("RoleName"))
	if err != nil {
		return nil, err
	}
	r.tags = withoutTagKeys(r.tags, c.listParam("TagKeys"))
	return nil, nil
}

func (s *iamService) listRoleTags(c *call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, err := s.role(c.param("RoleName"))
	if err != nil {
		return nil, err
	}
	items, paging, err := page(c, append([]iamTag{}, r.tags...), func(t iamTag) string { return t.Key })
	if err != nil {
		return nil, err
	}
	return struct {
		Tags []iamTag `xml:"Tags>member"`
		pageOutput
	}{items, paging}, nil
}

// roleForAssume returns a copy of the role an ARN names, if visible.
func (s *iamService) roleForAssume(arn string) (iamRole, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	name := arn[strings.LastIndex(arn, "/")+1:]
	r, err := s.role(name)
	if err != nil || r.arn != arn {
		return iamRole{}, false
	}
	return *r, true
}

func (s *iamService) markUsed(roleARN string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.roles[strings.ToLower(roleARN[strings.LastIndex(roleARN, "/")+1:])]; r != nil && r.arn == roleARN {
		r.lastUsed = at
	}
}
