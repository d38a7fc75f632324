package irsa

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// ErrRolePropagating means IAM answered NoSuchEntity for a role that was
// created moments ago: IAM is eventually consistent and a new role can take a
// few seconds to become visible to every API. The controller should requeue
// after a short delay instead of sleeping or reporting a failure. Errors
// carrying it also wrap the original SDK error.
var ErrRolePropagating = errors.New("IAM is still propagating the newly created role, retry shortly")

// RoleConflictError means a role with the wanted name exists but is not
// tagged as owned by this operator for this ServiceAccount. Nothing was
// changed; a human has to rename or delete the existing role.
type RoleConflictError struct {
	RoleName string
}

func (e *RoleConflictError) Error() string {
	return fmt.Sprintf("IAM role %q already exists and is not owned by this ServiceAccount; refusing to modify it", e.RoleName)
}

func isNoSuchEntity(err error) bool {
	var target *types.NoSuchEntityException
	return errors.As(err, &target)
}

func isEntityAlreadyExists(err error) bool {
	var target *types.EntityAlreadyExistsException
	return errors.As(err, &target)
}
