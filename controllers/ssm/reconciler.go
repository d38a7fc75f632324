// Package ssm reconciles SsmConfigs: it keeps one Secret per SsmConfig in sync with AWS SSM
// Parameter Store, reading through the operator-wide batching fetcher.
package ssm

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	"github.com/605-tv/k8s-aws-operator/internal/metrics"
	"github.com/605-tv/k8s-aws-operator/internal/ssmfetch"
	"github.com/605-tv/k8s-aws-operator/internal/steps"
)

// Fetcher reads parameters; *ssmfetch.Fetcher batches the reads of all reconciles together and
// serves answers younger than maxAge from memory, re-reading them ahead of time in full batches.
type Fetcher interface {
	GetWithin(ctx context.Context, names []string, maxAge time.Duration) (ssmfetch.Result, error)
	GetByPath(ctx context.Context, path string, recursive bool) ([]ssmfetch.Parameter, error)
}

// Reconciler keeps each SsmConfig's Secret in sync with SSM.
type Reconciler struct {
	// Client reads through the manager's cache, which holds only the Secrets this operator manages.
	Client client.Client
	// APIReader reads the API server directly: a Secret of the same name that we do not manage is
	// not in the cache, and must be seen before anything is written.
	APIReader client.Reader
	Fetcher   Fetcher
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
	Policy    AccessPolicy
	// Jitter spreads refreshes: it maps an interval to the actual wait (±10 % by default).
	Jitter func(time.Duration) time.Duration

	records *recordStore
	// changed carries the SsmConfigs whose parameters SSM changed, to reconcile them at once.
	changed chan event.TypedGenericEvent[*ssmv1alpha1.SsmConfig]
}

// +kubebuilder:rbac:groups=ssm.aws.605.tv,resources=ssmconfigs,verbs=get;list;watch
// +kubebuilder:rbac:groups=ssm.aws.605.tv,resources=ssmconfigs/status,verbs=patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile fetches the SsmConfig, runs the sync steps in order until one fails, and writes the
// outcome once to status.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	obj := &ssmv1alpha1.SsmConfig{}
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.SSMConfigsManaged.Set(float64(r.records.forget(req.NamespacedName)))
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.DeletionTimestamp.IsZero() {
		// The Secret goes with its controller ownerReference; only our memory needs cleaning.
		metrics.SSMConfigsManaged.Set(float64(r.records.forget(req.NamespacedName)))
		return reconcile.Result{}, nil
	}

	start := r.Clock.Now()
	run := &syncRun{obj: obj, key: req.NamespacedName, secretName: secretNameOf(obj), now: start}
	err := steps.Run(ctx, run,
		r.checkAccess,
		r.claimSecret,
		r.loadValues,
		r.composeSecret,
		r.writeSecret,
		r.rememberValues,
		r.releaseOldSecret,
	)
	cond := readyCondition(run, err)
	r.report(run, cond, err)
	if statusErr := r.updateStatus(ctx, run, cond, err); statusErr != nil {
		return reconcile.Result{}, statusErr
	}
	metrics.SSMSyncDuration.Observe(r.Clock.Since(start).Seconds())
	return r.result(run, err)
}

// syncRun carries one reconcile's state from step to step.
type syncRun struct {
	obj        *ssmv1alpha1.SsmConfig
	key        types.NamespacedName
	secretName string
	now        time.Time

	denied  []string       // names outside the namespace's access policy
	secret  *corev1.Secret // the existing Secret, when it is ours
	record  syncRecord     // the values this sync works from
	fetched bool           // record was read from SSM in this run (not from memory)
	data    map[string][]byte
	changes secretChanges
}

// result requeues transient failures with backoff (by returning the error) and everything else
// when its next refresh is due.
func (r *Reconciler) result(run *syncRun, err error) (reconcile.Result, error) {
	var syncErr *steps.Error
	if errors.As(err, &syncErr) && syncErr.Retry {
		return reconcile.Result{}, err
	}
	interval := refreshInterval(run.obj)
	if interval == 0 {
		return reconcile.Result{}, nil
	}
	if !run.record.nextRefresh.IsZero() {
		return reconcile.Result{RequeueAfter: run.record.nextRefresh.Sub(run.now)}, nil
	}
	// Refused before reading (conflict, policy, spec): look again later in case that changed.
	return reconcile.Result{RequeueAfter: r.Jitter(interval)}, nil
}

func secretNameOf(obj *ssmv1alpha1.SsmConfig) string {
	if obj.Spec.SecretName != "" {
		return obj.Spec.SecretName
	}
	return obj.Name
}

func refreshInterval(obj *ssmv1alpha1.SsmConfig) time.Duration {
	if obj.Spec.RefreshInterval == nil {
		return time.Hour
	}
	return obj.Spec.RefreshInterval.Duration
}
