package awsemu

import (
	"net/http"
	"strings"
	"time"
)

const iamMaxPolicySize = 6144

type iamPolicy struct {
	name               string
	path               string
	id                 string
	arn                string
	description        string
	created            time.Time
	attachmentCount    int
	boundaryUsageCount int
	tags               []iamTag
}

// managedPolicyCatalogue lists AWS managed policies (path and name) that
// every account can attach from the start.
var managedPolicyCatalogue = []string{
	"/AdministratorAccess",
	"/PowerUserAccess",
	"/ReadOnlyAccess",
	"/IAMFullAccess",
	"/IAMReadOnlyAccess",
	"/AmazonS3FullAccess",
	"/AmazonS3ReadOnlyAccess",
	"/AmazonSSMFullAccess",
	"/AmazonSSMReadOnlyAccess",
	"/AmazonSSMManagedInstanceCore",
	"/AmazonDynamoDBFullAccess",
	"/AmazonDynamoDBReadOnlyAccess",
	"/AmazonSQSFullAccess",
	"/AmazonSQSReadOnlyAccess",
	"/AmazonSNSFullAccess",
	"/AmazonSNSReadOnlyAccess",
	"/AmazonEC2FullAccess",
	"/AmazonEC2ReadOnlyAccess",
	"/AmazonEC2ContainerRegistryReadOnly",
	"/AmazonRDSReadOnlyAccess",
	"/AmazonEKSClusterPolicy",
	"/AmazonEKSWorkerNodePolicy",
	"/AmazonEKS_CNI_Policy",
	"/CloudWatchReadOnlyAccess",
	"/CloudWatchFullAccess",
	"/CloudWatchAgentServerPolicy",
	"/SecretsManagerReadWrite",
	"/AWSLambda_ReadOnlyAccess",
	"/AWSLambda_FullAccess",
	"/job-function/ViewOnlyAccess",
	"/service-role/AWSLambdaBasicExecutionRole",
}

// managedPolicyDate is when the catalogue's policies were "created".
var managedPolicyDate = time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)

func (s *iamService) addManagedPolicyCatalogue() {
	for _, pathAndName := range managedPolicyCatalogue {
		split := strings.LastIndex(pathAndName, "/") + 1
		path, name := pathAndName[:split], pathAndName[split:]
		p := &iamPolicy{
			name:    name,
			path:    path,
			id:      s.env.ids.uniqueID("ANPA"),
			arn:     "arn:" + s.env.partition + ":iam::aws:policy" + path + name,
			created: managedPolicyDate,
		}
		s.policies[p.arn] = p
	}
}

type policyOutput struct {
	PolicyName                    string
	PolicyId                      string
	Arn                           string
	Path                          string
	DefaultVersionId              string
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string `xml:",omitempty"`
	CreateDate                    isoTime
	UpdateDate                    isoTime
	Tags                          []iamTag `xml:"Tags>member"`
}

type policyResult struct {
	Policy policyOutput
}

func (p *iamPolicy) output() policyOutput {
	return policyOutput{
		PolicyName:                    p.name,
		PolicyId:                      p.id,
		Arn:                           p.arn,
		Path:                          p.path,
		DefaultVersionId:              "v1",
		AttachmentCount:               p.attachmentCount,
		PermissionsBoundaryUsageCount: p.boundaryUsageCount,
		IsAttachable:                  true,
		Description:                   p.description,
		CreateDate:                    isoTime(p.created),
		UpdateDate:                    isoTime(p.created),
		Tags:                          p.tags,
	}
}

type createPolicyInput struct {
	name        string
	path        string
	document    string
	description string
	tags        []iamTag
}

func (s *iamService) createPolicy(c *call) (any, error) {
	path, err := pathParam(c)
	if err != nil {
		return nil, err
	}
	tags, err := tagsParam(c)
	if err != nil {
		return nil, err
	}
	p, err := s.addPolicy(createPolicyInput{
		name:        c.param("PolicyName"),
		path:        path,
		document:    c.param("PolicyDocument"),
		description: c.param("Description"),
		tags:        tags,
	})
	if err != nil {
		return nil, err
	}
	return policyResult{p.output()}, nil
}

// addPolicy creates a customer managed policy; it backs CreatePolicy and
// seeding.
func (s *iamService) addPolicy(in createPolicyInput) (*iamPolicy, *apiError) {
	if err := validateIAMName(in.name, "policyName", 128); err != nil {
		return nil, err
	}
	if err := validateIAMPath(in.path); err != nil {
		return nil, err
	}
	if in.document == "" {
		return nil, iamValidationError("%s", validationMessage("", "policyDocument", "Member must have length greater than or equal to 1"))
	}
	if policySize(in.document) > iamMaxPolicySize {
		return nil, limitExceeded("Cannot exceed quota for PolicySize: %d", iamMaxPolicySize)
	}
	if _, err := parsePolicy(in.document, identityPolicy); err != nil {
		return nil, err
	}
	if len(in.description) > 1000 {
		return nil, iamValidationError("%s", validationMessage(in.description, "description", "Member must have length less than or equal to 1000"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	accountPrefix := "arn:" + s.env.partition + ":iam::" + s.env.accountID + ":policy/"
	for arn, existing := range s.policies {
		if strings.HasPrefix(arn, accountPrefix) && strings.EqualFold(existing.name, in.name) {
			return nil, newAPIError(http.StatusConflict, "EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not allowed.", in.name)
		}
	}
	p := &iamPolicy{
		name:        in.name,
		path:        in.path,
		id:          s.env.ids.uniqueID("ANPA"),
		arn:         strings.TrimSuffix(accountPrefix, "/") + in.path + in.name,
		description: in.description,
		created:     s.env.now(),
		tags:        in.tags,
	}
	s.policies[p.arn] = p
	return p, nil
}

func (s *iamService) getPolicy(c *call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.attachablePolicy(c.param("PolicyArn"))
	if err != nil {
		return nil, err
	}
	return policyResult{p.output()}, nil
}

// CreatePolicy creates a customer managed policy at path "/" directly, for
// seeding, and returns its ARN.
func (e *Emulator) CreatePolicy(name, document string) (string, error) {
	p, err := e.iam.addPolicy(createPolicyInput{name: name, path: "/", document: document})
	if err != nil {
		return "", err
	}
	return p.arn, nil
}
