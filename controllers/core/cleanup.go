package core

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
	"github.com/605-tv/k8s-aws-operator/internal/steps"
)

// deleteRole detaches the role's policies and deletes it. A role that is already gone is success,
// so an interrupted cleanup finishes on the next run; a role someone else owns is left untouched.
func (r *ServiceAccountReconciler) deleteRole(ctx context.Context, run *roleRun) error {
	err := r.Roles.Delete(ctx, run.roleName, run.owner)
	var conflict *irsa.RoleConflictError
	switch {
	case err == nil:
		run.deleted = true
		return nil
	case errors.As(err, &conflict):
		// Not ours to delete; the ServiceAccount is still released.
		run.foreign = true
		return nil
	case errors.Is(err, irsa.ErrRolePropagating):
		return propagating(err)
	default:
		return steps.Transient(ReasonIAMError, "deleting IAM role "+run.roleName, err)
	}
}

// release removes our finalizer and our role ARN annotation in one patch, leaving everything the
// user owns (including a role ARN they point at a role of their own).
func (r *ServiceAccountReconciler) release(ctx context.Context, run *roleRun) error {
	err := r.patch(ctx, run, "removing the finalizer", func(sa *corev1.ServiceAccount) {
		if namesRole(sa.Annotations[RoleARNAnnotation], run.roleName) {
			delete(sa.Annotations, RoleARNAnnotation)
		}
		controllerutil.RemoveFinalizer(sa, Finalizer)
	})
	if err != nil {
		return err
	}
	r.managed.forget(run.key)
	run.released = true
	return nil
}
