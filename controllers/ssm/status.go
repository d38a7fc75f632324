package ssm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/605-tv/k8s-aws-operator/internal/metrics"
	"github.com/605-tv/k8s-aws-operator/internal/steps"
)

// readyCondition turns a sync's outcome into the Ready condition.
func readyCondition(run *syncRun, err error) metav1.Condition {
	cond := metav1.Condition{Type: ConditionReady, Status: metav1.ConditionFalse, ObservedGeneration: run.obj.Generation}
	var syncErr *steps.Error
	switch notFound := run.record.values.notFound; {
	case errors.As(err, &syncErr):
		cond.Reason, cond.Message = syncErr.Reason, syncErr.Error()
	case err != nil:
		cond.Reason, cond.Message = ReasonKubernetesError, err.Error()
	case len(notFound) > 0:
		cond.Reason = ReasonParameterNotFound
		cond.Message = fmt.Sprintf("%d parameter(s) not found in SSM: %s; Secret %s holds the other %d key(s)",
			len(notFound), strings.Join(bounded(notFound), ", "), run.secretName, len(run.data))
	default:
		cond.Status, cond.Reason = metav1.ConditionTrue, ReasonSynced
		cond.Message = fmt.Sprintf("Secret %s holds %d key(s)", run.secretName, len(run.data))
	}
	return cond
}

// updateStatus writes the sync's outcome in one patch, and only when it changed anything: a refresh
// that finds nothing new writes nothing to the API server, so lastSyncTime is when the Secret or
// the outcome last changed.
func (r *Reconciler) updateStatus(ctx context.Context, run *syncRun, cond metav1.Condition, err error) error {
	obj := run.obj
	before := obj.DeepCopy()
	status := &obj.Status
	status.ObservedGeneration = obj.Generation
	meta.SetStatusCondition(&status.Conditions, cond)
	status.DeniedParameters = truncated(run.denied)
	if err == nil {
		status.SecretName = run.secretName
		status.SyncedKeys = int32(len(run.data))
		status.MissingParameters = truncated(run.record.values.notFound)
	}
	if equality.Semantic.DeepEqual(before.Status, obj.Status) && !run.changes.any() {
		return nil
	}
	if err == nil {
		status.LastSyncTime = &metav1.Time{Time: run.record.fetchedAt}
	}
	if patchErr := r.Client.Status().Patch(ctx, obj, client.MergeFrom(before)); patchErr != nil {
		return client.IgnoreNotFound(patchErr)
	}
	return nil
}

// report emits the Events and metrics of a sync. A sync that changed nothing emits no Event.
func (r *Reconciler) report(run *syncRun, cond metav1.Condition, err error) {
	metrics.SSMSyncs.WithLabelValues(cond.Reason).Inc()
	if err != nil {
		r.Recorder.Eventf(run.obj, nil, corev1.EventTypeWarning, cond.Reason, "Sync", "%s", cond.Message)
		return
	}
	if run.fetched && len(run.record.values.notFound) > 0 {
		r.Recorder.Eventf(run.obj, nil, corev1.EventTypeWarning, ReasonParameterNotFound, "Sync", "%s", cond.Message)
	}
	if !run.changes.any() {
		return
	}
	reason := "SecretUpdated"
	switch {
	case run.changes.created:
		reason = "SecretCreated"
	case !run.fetched:
		reason = "SecretRestored"
	}
	r.Recorder.Eventf(run.obj, nil, corev1.EventTypeNormal, reason, "Sync", "Secret %s: %s", run.secretName, run.changes)
}

func (c secretChanges) String() string {
	if c.created {
		return fmt.Sprintf("created with keys %s", strings.Join(c.added, ", "))
	}
	var parts []string
	for _, p := range []struct {
		verb string
		keys []string
	}{{"added", c.added}, {"updated", c.updated}, {"removed", c.removed}} {
		if len(p.keys) > 0 {
			parts = append(parts, p.verb+" "+strings.Join(bounded(p.keys), ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func truncated(names []string) []string {
	if len(names) > maxListed {
		return names[:maxListed]
	}
	return names
}
