package irsa

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// syncPolicies makes the role's managed policies exactly desired. A role
// created by this same Ensure call is known to have none, which also avoids
// listing a role IAM may not show yet.
//
// Detaching runs before attaching: a failure half way leaves the role with
// fewer permissions rather than more, and replacing policies on a role at its
// quota does not fail with LimitExceeded.
func (m *RoleManager) syncPolicies(ctx context.Context, role *types.Role, desired []string, fresh bool, result *EnsureResult) error {
	var attached []string
	if !fresh {
		var err error
		if attached, err = m.listAttached(ctx, role); err != nil {
			return err
		}
	}
	for _, policy := range without(attached, desired) {
		if err := m.detach(ctx, role, policy); err != nil {
			return err
		}
		result.Detached = append(result.Detached, policy)
	}
	for _, policy := range without(desired, attached) {
		if err := m.attach(ctx, role, policy); err != nil {
			return err
		}
		result.Attached = append(result.Attached, policy)
	}
	return nil
}

func (m *RoleManager) listAttached(ctx context.Context, role *types.Role) ([]string, error) {
	var policies []string
	pages := iam.NewListAttachedRolePoliciesPaginator(m.iam, &iam.ListAttachedRolePoliciesInput{RoleName: role.RoleName})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, m.roleError(role, "list policies of", err)
		}
		for _, policy := range page.AttachedPolicies {
			policies = append(policies, aws.ToString(policy.PolicyArn))
		}
	}
	return policies, nil
}

// attach reports NoSuchEntity as is once the role is old enough to be visible:
// then it means the policy does not exist, and IAM's message names it.
func (m *RoleManager) attach(ctx context.Context, role *types.Role, policy string) error {
	_, err := m.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role.RoleName, PolicyArn: aws.String(policy)})
	return m.roleError(role, fmt.Sprintf("attach %s to", policy), err)
}

// detach treats NoSuchEntity as success: the policy is already detached (by a
// concurrent writer or an earlier attempt whose response was lost).
func (m *RoleManager) detach(ctx context.Context, role *types.Role, policy string) error {
	_, err := m.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: role.RoleName, PolicyArn: aws.String(policy)})
	if isNoSuchEntity(err) {
		return nil
	}
	return m.roleError(role, fmt.Sprintf("detach %s from", policy), err)
}

// without returns the items of list that are not in exclude, in list order.
func without(list, exclude []string) []string {
	var rest []string
	for _, item := range list {
		if !slices.Contains(exclude, item) && !slices.Contains(rest, item) {
			rest = append(rest, item)
		}
	}
	return rest
}
