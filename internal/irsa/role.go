package irsa

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// rolePropagationWindow is how long after a role's creation a NoSuchEntity
// answer about it is blamed on IAM eventual consistency (AWS quotes "a few
// seconds"; a minute leaves a wide margin).
const rolePropagationWindow = time.Minute

// IAMRoleAPI is the part of *iam.Client the RoleManager uses, with the SDK's
// own signatures so the real client satisfies it and tests can use a fake.
type IAMRoleAPI interface {
	iam.ListAttachedRolePoliciesAPIClient
	GetRole(ctx context.Context, params *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	CreateRole(ctx context.Context, params *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	DeleteRole(ctx context.Context, params *iam.DeleteRoleInput, optFns ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, params *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	AttachRolePolicy(ctx context.Context, params *iam.AttachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	DetachRolePolicy(ctx context.Context, params *iam.DetachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	PutRolePermissionsBoundary(ctx context.Context, params *iam.PutRolePermissionsBoundaryInput, optFns ...func(*iam.Options)) (*iam.PutRolePermissionsBoundaryOutput, error)
	DeleteRolePermissionsBoundary(ctx context.Context, params *iam.DeleteRolePermissionsBoundaryInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePermissionsBoundaryOutput, error)
	TagRole(ctx context.Context, params *iam.TagRoleInput, optFns ...func(*iam.Options)) (*iam.TagRoleOutput, error)
}

var _ IAMRoleAPI = (*iam.Client)(nil)

// RoleManager converges IAM roles onto a desired state. Every step is
// idempotent, so after a crash or error at any point a rerun finishes the job.
type RoleManager struct {
	iam IAMRoleAPI
	now func() time.Time
}

// NewRoleManager returns a RoleManager using client; retries of throttled or
// failed calls are left to the client's retryer.
func NewRoleManager(client IAMRoleAPI) *RoleManager {
	return &RoleManager{iam: client, now: time.Now}
}

// EnsureResult lists what Ensure changed, one field per kind of change, so the
// caller can emit one Event each. On error it still lists the changes made
// before the failure.
type EnsureResult struct {
	RoleARN         string
	Created         bool
	TrustUpdated    bool
	BoundaryUpdated bool
	TagsUpdated     bool
	Attached        []string
	Detached        []string
}

// Changed reports whether Ensure wrote anything.
func (r EnsureResult) Changed() bool {
	return r.Created || r.TrustUpdated || r.BoundaryUpdated || r.TagsUpdated || len(r.Attached) > 0 || len(r.Detached) > 0
}

// Ensure creates the role or repairs its drift. A role that exists but is not
// owned by desired.Owner yields *RoleConflictError and is left untouched. A
// role already in the desired state costs only GetRole and
// ListAttachedRolePolicies calls. NoSuchEntity about a role created less
// than a minute ago is reported as ErrRolePropagating.
func (m *RoleManager) Ensure(ctx context.Context, desired DesiredRole) (EnsureResult, error) {
	var result EnsureResult
	if err := desired.validate(); err != nil {
		return result, err
	}
	role, err := m.getRole(ctx, desired.Name)
	if err != nil {
		return result, err
	}
	if role == nil {
		if role, result.Created, err = m.createRole(ctx, desired); err != nil {
			return result, err
		}
	}
	result.RoleARN = aws.ToString(role.Arn)
	if !result.Created {
		if err := m.repairRole(ctx, role, desired, &result); err != nil {
			return result, err
		}
	}
	err = m.syncPolicies(ctx, role, desired.Policies, result.Created, &result)
	return result, err
}

// getRole returns nil, nil when the role does not exist.
func (m *RoleManager) getRole(ctx context.Context, name string) (*types.Role, error) {
	out, err := m.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	switch {
	case isNoSuchEntity(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get role %s: %w", name, err)
	}
	return out.Role, nil
}

// createRole creates the role with its trust policy, boundary and tags in a
// single call, so a created role is never briefly unowned or unbounded. If the
// role appeared since GetRole (another writer, or a lost response to our own
// earlier CreateRole) it is re-read and reported as not created, so the caller
// checks ownership before touching it.
func (m *RoleManager) createRole(ctx context.Context, d DesiredRole) (*types.Role, bool, error) {
	out, err := m.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(d.Name),
		Path:                     aws.String(d.rolePath()),
		AssumeRolePolicyDocument: aws.String(d.TrustPolicy),
		Description:              optionalString(d.Description),
		PermissionsBoundary:      optionalString(d.Boundary),
		Tags:                     tagList(d.allTags()),
	})
	if err == nil {
		return out.Role, true, nil
	}
	if !isEntityAlreadyExists(err) {
		return nil, false, fmt.Errorf("create role %s: %w", d.Name, err)
	}
	role, err := m.getRole(ctx, d.Name)
	if err != nil {
		return nil, false, err
	}
	if role == nil {
		return nil, false, fmt.Errorf("role %s exists but cannot be read yet: %w", d.Name, ErrRolePropagating)
	}
	return role, false, nil
}

// repairRole checks ownership first, then fixes trust policy (first, as it
// decides who can use the role), boundary and tags, writing only what differs.
func (m *RoleManager) repairRole(ctx context.Context, role *types.Role, d DesiredRole, result *EnsureResult) error {
	if err := checkOwnership(role, d.Owner); err != nil {
		return err
	}
	var err error
	if result.TrustUpdated, err = m.repairTrust(ctx, role, d.TrustPolicy); err != nil {
		return err
	}
	if result.BoundaryUpdated, err = m.repairBoundary(ctx, role, d.Boundary); err != nil {
		return err
	}
	result.TagsUpdated, err = m.repairTags(ctx, role, d.allTags())
	return err
}

// checkOwnership refuses any role this operator did not create for owner.
func checkOwnership(role *types.Role, owner Owner) error {
	if OwnedBy(role.Tags, owner.Cluster, owner.Namespace, owner.ServiceAccount) {
		return nil
	}
	return &RoleConflictError{RoleName: aws.ToString(role.RoleName)}
}

func (m *RoleManager) repairTrust(ctx context.Context, role *types.Role, desired string) (bool, error) {
	// desired was validated up front, so an error can only come from the
	// current document; replacing a trust policy we cannot read is the safe
	// repair.
	if same, err := TrustPoliciesEquivalent(aws.ToString(role.AssumeRolePolicyDocument), desired); err == nil && same {
		return false, nil
	}
	_, err := m.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
		RoleName:       role.RoleName,
		PolicyDocument: aws.String(desired),
	})
	return err == nil, m.roleError(role, "update trust policy of", err)
}

func (m *RoleManager) repairBoundary(ctx context.Context, role *types.Role, desired string) (bool, error) {
	if currentBoundary(role) == desired {
		return false, nil
	}
	var err error
	if desired == "" {
		_, err = m.iam.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: role.RoleName})
	} else {
		_, err = m.iam.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{
			RoleName:            role.RoleName,
			PermissionsBoundary: aws.String(desired),
		})
	}
	return err == nil, m.roleError(role, "set permissions boundary of", err)
}

func currentBoundary(role *types.Role) string {
	if role.PermissionsBoundary == nil {
		return ""
	}
	return aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn)
}

func (m *RoleManager) repairTags(ctx context.Context, role *types.Role, desired map[string]string) (bool, error) {
	missing := missingTags(role.Tags, desired)
	if len(missing) == 0 {
		return false, nil
	}
	_, err := m.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: role.RoleName, Tags: missing})
	return err == nil, m.roleError(role, "tag", err)
}

// roleError adds context to a failed call about role, or returns nil for a
// nil err. NoSuchEntity on a recently created role is marked
// ErrRolePropagating so the caller requeues instead of reporting a failure.
func (m *RoleManager) roleError(role *types.Role, action string, err error) error {
	switch {
	case err == nil:
		return nil
	case isNoSuchEntity(err) && m.recentlyCreated(role):
		return fmt.Errorf("%s role %s: %w: %w", action, aws.ToString(role.RoleName), ErrRolePropagating, err)
	default:
		return fmt.Errorf("%s role %s: %w", action, aws.ToString(role.RoleName), err)
	}
}

func (m *RoleManager) recentlyCreated(role *types.Role) bool {
	return role.CreateDate != nil && m.now().Sub(*role.CreateDate) < rolePropagationWindow
}
