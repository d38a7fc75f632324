package core

import (
	"context"
	"errors"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/605-tv/k8s-aws-operator/internal/steps"
)

// change is one Normal Event: something the operator changed in IAM.
type change struct {
	reason, action, note string
}

// report emits one Event per change made (even when a later step failed, as those changes are
// real) and one Warning for the failure or refusal that stopped the run.
func (r *ServiceAccountReconciler) report(ctx context.Context, run *roleRun, err error) {
	for _, c := range r.changes(run) {
		r.Recorder.Eventf(run.sa, nil, corev1.EventTypeNormal, c.reason, c.action, "%s", c.note)
	}
	if run.foreign {
		r.Recorder.Eventf(run.sa, nil, corev1.EventTypeWarning, ReasonRoleConflict, "DeleteRole",
			"IAM role %s is not owned by this ServiceAccount and was left in place", run.roleName)
	}
	var stepErr *steps.Error
	if !errors.As(err, &stepErr) {
		return
	}
	logStop(ctx, stepErr)
	if !stepErr.Quiet {
		r.Recorder.Eventf(run.sa, nil, corev1.EventTypeWarning, stepErr.Reason, "Reconcile", "%s", oneLine(stepErr.Error()))
	}
}

// logStop logs what is not returned to controller-runtime, which logs the errors it retries.
// A missing OIDC provider is the cluster admin's to fix, so it is logged as an error.
func logStop(ctx context.Context, stepErr *steps.Error) {
	logger := log.FromContext(ctx)
	switch {
	case stepErr.Retry:
	case stepErr.Quiet:
		logger.V(1).Info("looking again shortly", "message", stepErr.Error())
	case stepErr.Reason == ReasonOIDCProviderNotFound:
		logger.Error(stepErr, "no role created: the cluster's OIDC provider is missing in IAM")
	default:
		logger.Info("role not converged", "reason", stepErr.Reason, "message", stepErr.Error())
	}
}

// changes lists what this run changed in IAM, in the order it happened.
func (r *ServiceAccountReconciler) changes(run *roleRun) []change {
	result, role := run.ensured, run.roleName
	var list []change
	add := func(happened bool, reason, action, note string) {
		if happened {
			list = append(list, change{reason: reason, action: action, note: note})
		}
	}
	add(result.Created, ReasonRoleCreated, "CreateRole", "created IAM role "+result.RoleARN)
	add(result.TrustUpdated, ReasonTrustPolicyUpdated, "UpdateAssumeRolePolicy",
		"updated the trust policy of IAM role "+role+" to trust only this ServiceAccount")
	add(result.BoundaryUpdated, ReasonBoundaryUpdated, "PutRolePermissionsBoundary", boundaryNote(role, r.Guardrails.PermissionsBoundary))
	add(result.TagsUpdated, ReasonRoleTagsUpdated, "TagRole", "restored the ownership tags of IAM role "+role)
	add(len(result.Detached) > 0, ReasonPoliciesDetached, "DetachRolePolicy",
		"detached "+strings.Join(result.Detached, ", ")+" from IAM role "+role)
	add(len(result.Attached) > 0, ReasonPoliciesAttached, "AttachRolePolicy",
		"attached "+strings.Join(result.Attached, ", ")+" to IAM role "+role)
	add(run.deleted, ReasonRoleDeleted, "DeleteRole", "deleted IAM role "+role+" and its policy attachments")
	return list
}

func boundaryNote(role, boundary string) string {
	if boundary == "" {
		return "removed the permissions boundary of IAM role " + role
	}
	return "set the permissions boundary of IAM role " + role + " to " + boundary
}
