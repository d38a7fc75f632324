// Package core reconciles ServiceAccounts labelled type=iam into IAM roles for service accounts
// (IRSA): one role per ServiceAccount, trusted only by that ServiceAccount through the cluster's
// OIDC provider, holding exactly the managed policies its attachedPolicies annotation lists and
// the operator's guardrails allow. The IAM side lives in internal/irsa; this package turns
// ServiceAccounts into desired roles and role changes into Events.
package core

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
	"github.com/605-tv/k8s-aws-operator/internal/steps"
)

// Roles converges and deletes IAM roles; *irsa.RoleManager implements it.
type Roles interface {
	Ensure(ctx context.Context, desired irsa.DesiredRole) (irsa.EnsureResult, error)
	Delete(ctx context.Context, name string, owner irsa.Owner) error
}

// ProviderLookup finds the cluster's IAM OIDC provider; *Discovery implements it.
type ProviderLookup interface {
	Provider(ctx context.Context) (OIDCProvider, error)
}

// ServiceAccountReconciler keeps one IAM role per selected ServiceAccount.
type ServiceAccountReconciler struct {
	Client     client.Client
	Recorder   events.EventRecorder
	Roles      Roles
	Provider   ProviderLookup
	Guardrails irsa.Guardrails
	// ClusterName goes into role names and ownership tags, so clusters sharing an account never
	// touch each other's roles.
	ClusterName string
	// RolePath is the IAM path of new roles; the operator's own IAM policy is scoped to it.
	RolePath string
	// ResyncPeriod is how often an unchanged ServiceAccount's role is compared with IAM.
	ResyncPeriod time.Duration
	// Jitter maps an interval to the actual wait, so roles created together do not resync together.
	Jitter func(time.Duration) time.Duration

	managed *managedRoles
}

// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:urls=/.well-known/openid-configuration,verbs=get

// Reconcile fetches the ServiceAccount and either converges its role (selected) or deletes it
// (deleted, or no longer selected but still holding our finalizer), then reports once.
func (r *ServiceAccountReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	sa := &corev1.ServiceAccount{}
	if err := r.Client.Get(ctx, req.NamespacedName, sa); err != nil {
		if apierrors.IsNotFound(err) {
			r.managed.forget(req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	run := r.newRun(sa)
	var err error
	switch {
	case wantsRole(sa):
		err = steps.Run(ctx, run,
			r.parsePolicies,
			r.checkGuardrails,
			r.findProvider,
			r.addFinalizer,
			r.ensureRole,
			r.annotate,
		)
	case controllerutil.ContainsFinalizer(sa, Finalizer):
		err = steps.Run(ctx, run,
			r.deleteRole,
			r.release,
		)
	default:
		r.managed.forget(run.key)
		return reconcile.Result{}, nil
	}
	r.report(ctx, run, err)
	return r.result(run, err)
}

// roleRun carries one reconcile's state from step to step.
type roleRun struct {
	sa       *corev1.ServiceAccount
	key      types.NamespacedName
	owner    irsa.Owner
	roleName string

	policies []string // requested, then those the guardrails allow
	provider OIDCProvider
	ensured  irsa.EnsureResult
	deleted  bool // the role was deleted (or was already gone)
	foreign  bool // the role to delete belongs to someone else and was left alone
	released bool // our finalizer is gone: nothing left to resync
}

func (r *ServiceAccountReconciler) newRun(sa *corev1.ServiceAccount) *roleRun {
	return &roleRun{
		sa:       sa,
		key:      client.ObjectKeyFromObject(sa),
		owner:    irsa.Owner{Cluster: r.ClusterName, Namespace: sa.Namespace, ServiceAccount: sa.Name},
		roleName: irsa.RoleName(r.ClusterName, sa.Namespace, sa.Name),
	}
}

// result requeues transient failures with backoff (by returning the error), everything else when
// it is worth looking again: at the next jittered resync, or sooner for a propagating role or a
// missing OIDC provider.
func (r *ServiceAccountReconciler) result(run *roleRun, err error) (reconcile.Result, error) {
	var stepErr *steps.Error
	switch {
	case err == nil && run.released:
		return reconcile.Result{}, nil
	case err == nil:
		return reconcile.Result{RequeueAfter: r.Jitter(r.ResyncPeriod)}, nil
	case !errors.As(err, &stepErr) || stepErr.Retry:
		return reconcile.Result{}, err
	case stepErr.After > 0:
		return reconcile.Result{RequeueAfter: r.Jitter(stepErr.After)}, nil
	default:
		return reconcile.Result{RequeueAfter: r.Jitter(r.ResyncPeriod)}, nil
	}
}
