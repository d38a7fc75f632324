package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
	"github.com/605-tv/k8s-aws-operator/internal/steps"
)

// parsePolicies reads the annotation. Any invalid entry, or more policies than a role may hold,
// refuses the whole list: applying the valid part would leave a role the owner did not ask for.
func (r *ServiceAccountReconciler) parsePolicies(_ context.Context, run *roleRun) error {
	arns, err := irsa.ParsePolicyARNs(run.sa.Annotations[PoliciesAnnotation], r.Guardrails.MaxPolicies)
	if err != nil {
		return steps.Refusal(ReasonInvalidPolicies, "annotation %s: %s; nothing was applied", PoliciesAnnotation, oneLine(err.Error()))
	}
	run.policies = arns
	return nil
}

// checkGuardrails refuses the whole list when any policy is not allowed, for the same reason.
func (r *ServiceAccountReconciler) checkGuardrails(_ context.Context, run *roleRun) error {
	allowed, refused := r.Guardrails.Check(run.policies)
	if len(refused) > 0 {
		return steps.Refusal(ReasonPolicyNotAllowed, "policies not allowed by the operator's guardrails: %s; nothing was applied",
			strings.Join(refused, ", "))
	}
	run.policies = allowed
	return nil
}

// findProvider makes sure the role will be assumable: without the cluster's OIDC provider in IAM
// no token could ever use it, so no role is created.
func (r *ServiceAccountReconciler) findProvider(ctx context.Context, run *roleRun) error {
	provider, err := r.Provider.Provider(ctx)
	var missing *ProviderNotFoundError
	switch {
	case errors.As(err, &missing):
		return &steps.Error{Reason: ReasonOIDCProviderNotFound, Message: missing.Error(), After: providerRecheckInterval}
	case err != nil:
		return steps.Transient(ReasonDiscoveryFailed, "discovering the cluster's IAM OIDC provider", err)
	}
	run.provider = provider
	return nil
}

// addFinalizer comes before any IAM write, so that a role can never outlive its ServiceAccount,
// whatever point a crash interrupts.
func (r *ServiceAccountReconciler) addFinalizer(ctx context.Context, run *roleRun) error {
	if controllerutil.ContainsFinalizer(run.sa, Finalizer) {
		return nil
	}
	return r.patch(ctx, run, "adding the finalizer", func(sa *corev1.ServiceAccount) {
		controllerutil.AddFinalizer(sa, Finalizer)
	})
}

// ensureRole converges the role. A role in sync costs two IAM reads and no write.
func (r *ServiceAccountReconciler) ensureRole(ctx context.Context, run *roleRun) error {
	trust, err := irsa.TrustPolicy(run.provider.ARN, run.provider.IssuerURL, run.sa.Namespace, run.sa.Name)
	if err != nil {
		return steps.Transient(ReasonIAMError, "building the trust policy", err)
	}
	run.ensured, err = r.Roles.Ensure(ctx, irsa.DesiredRole{
		Name:        run.roleName,
		Path:        r.RolePath,
		Description: fmt.Sprintf("IRSA role of ServiceAccount %s/%s in cluster %s", run.sa.Namespace, run.sa.Name, r.ClusterName),
		TrustPolicy: trust,
		Boundary:    r.Guardrails.PermissionsBoundary,
		Policies:    run.policies,
		Owner:       run.owner,
	})
	var conflict *irsa.RoleConflictError
	switch {
	case err == nil:
		r.managed.add(run.key)
		return nil
	case errors.Is(err, irsa.ErrRolePropagating):
		return propagating(err)
	case errors.As(err, &conflict):
		r.managed.forget(run.key)
		return steps.Refusal(ReasonRoleConflict, "%s", conflict.Error())
	default:
		return steps.Transient(ReasonIAMError, "converging IAM role "+run.roleName, err)
	}
}

// annotate points the EKS pod identity webhook at the role, restoring the annotation if someone
// removed or changed it while the ServiceAccount is selected.
func (r *ServiceAccountReconciler) annotate(ctx context.Context, run *roleRun) error {
	roleARN := run.ensured.RoleARN
	if run.sa.Annotations[RoleARNAnnotation] == roleARN {
		return nil
	}
	return r.patch(ctx, run, "annotating the role ARN", func(sa *corev1.ServiceAccount) {
		metav1.SetMetaDataAnnotation(&sa.ObjectMeta, RoleARNAnnotation, roleARN)
	})
}

// patch applies change to the ServiceAccount as a merge patch, which touches only the keys change
// sets. The patch carries the resourceVersion: finalizers are a list a merge patch replaces whole,
// so a concurrent change by someone else fails with a conflict instead of being overwritten.
func (r *ServiceAccountReconciler) patch(ctx context.Context, run *roleRun, action string, change func(*corev1.ServiceAccount)) error {
	before := run.sa.DeepCopy()
	change(run.sa)
	err := r.Client.Patch(ctx, run.sa, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	switch {
	case apierrors.IsConflict(err):
		// The ServiceAccount changed since it was read; the next run starts from the new version.
		return requeueSoon(action+": the ServiceAccount changed meanwhile", conflictRetryInterval, err)
	case err != nil:
		return steps.Transient(ReasonKubernetesError, action, err)
	}
	log.FromContext(ctx).V(1).Info("patched ServiceAccount", "action", action)
	return nil
}
