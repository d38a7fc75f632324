package irsa

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seedRoleForDeletion(t *testing.T, f *fakeIAM) DesiredRole {
	desired := testDesiredRole(t)
	desired.Policies = []string{ssmPolicy, s3Policy, sqsPolicy} // more than one page
	f.seed(desired)
	return desired
}

func TestDeleteRemovesOwnedRole(t *testing.T) {
	f := newFakeIAM()
	desired := seedRoleForDeletion(t, f)

	err := managerFor(f).Delete(context.Background(), desired.Name, testOwner)

	require.NoError(t, err)
	_, exists := f.role(desired.Name)
	assert.False(t, exists)
	assert.Equal(t, []string{"GetRole", "ListAttachedRolePolicies", "ListAttachedRolePolicies",
		"DetachRolePolicy", "DetachRolePolicy", "DetachRolePolicy", "DeleteRole"}, f.calls)
}

func TestDeleteIsIdempotent(t *testing.T) {
	f := newFakeIAM()
	manager := managerFor(f)

	require.NoError(t, manager.Delete(context.Background(), "absent", testOwner))
	require.NoError(t, manager.Delete(context.Background(), "absent", testOwner))

	assert.Equal(t, []string{"GetRole", "GetRole"}, f.calls)
}

func TestDeleteRefusesForeignRole(t *testing.T) {
	f := newFakeIAM()
	desired := seedRoleForDeletion(t, f)
	before, _ := f.snapshot(desired.Name)

	err := managerFor(f).Delete(context.Background(), desired.Name, Owner{Cluster: testCluster, Namespace: "other", ServiceAccount: testSA})

	require.ErrorAs(t, err, new(*RoleConflictError))
	assert.Empty(t, f.writeCalls())
	after, _ := f.snapshot(desired.Name)
	assert.Equal(t, before, after)
}

func TestDeleteConvergesAfterFailureAtEachStep(t *testing.T) {
	steps := countCalls(t, func(f *fakeIAM) error {
		desired := seedRoleForDeletion(t, f)
		return managerFor(f).Delete(context.Background(), desired.Name, testOwner)
	})
	for step := 1; step <= steps; step++ {
		for _, afterApply := range []bool{false, true} {
			t.Run(fmt.Sprintf("fail call %d/after apply %v", step, afterApply), func(t *testing.T) {
				f := newFakeIAM()
				desired := seedRoleForDeletion(t, f)
				f.failAt, f.failAfterApply = step, afterApply
				manager := managerFor(f)

				require.ErrorIs(t, manager.Delete(context.Background(), desired.Name, testOwner), errInjected)

				f.resetCalls()
				require.NoError(t, manager.Delete(context.Background(), desired.Name, testOwner))
				_, exists := f.role(desired.Name)
				assert.False(t, exists)
			})
		}
	}
}
