package irsa

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Delete removes the role if owner owns it. A missing role is success, so
// repeated or interrupted deletions converge; a role owned by someone else
// yields *RoleConflictError and is left untouched. Ownership tags stay on the
// role until DeleteRole, so a rerun after a crash still recognises it. The
// permissions boundary needs no removal: DeleteRole drops it with the role.
func (m *RoleManager) Delete(ctx context.Context, name string, owner Owner) error {
	role, err := m.getRole(ctx, name)
	if err != nil || role == nil {
		return err
	}
	if err := checkOwnership(role, owner); err != nil {
		return err
	}
	attached, err := m.listAttached(ctx, role)
	if err != nil {
		return err
	}
	for _, policy := range attached {
		if err := m.detach(ctx, role, policy); err != nil {
			return err
		}
	}
	_, err = m.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role.RoleName})
	if isNoSuchEntity(err) {
		return nil
	}
	return m.roleError(role, "delete", err)
}
