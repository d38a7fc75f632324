package ssm

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
)

// RefreshJitter spreads each refresh over ±10 % of its interval, so SsmConfigs created together
// do not refresh together forever.
func RefreshJitter(interval time.Duration) time.Duration {
	return wait.Jitter(interval*9/10, 2.0/9.0)
}

// SetupWithManager registers the controller: SsmConfigs (spec changes), their Secrets (drift), and
// Namespaces (access policy changes).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	r.records = newRecordStore()
	r.changed = make(chan event.TypedGenericEvent[*ssmv1alpha1.SsmConfig], changedBuffer)
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Jitter == nil {
		r.Jitter = RefreshJitter
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("ssmconfig").
		For(&ssmv1alpha1.SsmConfig{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&corev1.Secret{}).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.configsInNamespace),
			builder.WithPredicates(predicate.Funcs{
				CreateFunc:  func(event.CreateEvent) bool { return false },
				DeleteFunc:  func(event.DeleteEvent) bool { return false },
				GenericFunc: func(event.GenericEvent) bool { return false },
				UpdateFunc: func(e event.UpdateEvent) bool {
					return e.ObjectOld.GetAnnotations()[AllowedPathsAnnotation] != e.ObjectNew.GetAnnotations()[AllowedPathsAnnotation]
				},
			})).
		WatchesRawSource(source.Channel(r.changed, &handler.TypedEnqueueRequestForObject[*ssmv1alpha1.SsmConfig]{})).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: concurrency,
			// Transient AWS/API failures retry from 100ms up to 5 minutes, not the default 16 minutes.
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](100*time.Millisecond, 5*time.Minute),
		}).
		Complete(r)
}

// changedBuffer bounds the SsmConfigs waiting to be told of a changed parameter; past it, they
// learn at their next refresh (their values are marked stale either way).
const changedBuffer = 1024

// ParameterChanged is the fetcher's OnChange: the SsmConfigs read from key read it again now.
func (r *Reconciler) ParameterChanged(key string) {
	for _, name := range r.records.markStale(key) {
		obj := &ssmv1alpha1.SsmConfig{ObjectMeta: metav1.ObjectMeta{Namespace: name.Namespace, Name: name.Name}}
		select {
		case r.changed <- event.TypedGenericEvent[*ssmv1alpha1.SsmConfig]{Object: obj}:
		default:
		}
	}
}

// configsInNamespace enqueues every SsmConfig of a Namespace whose access policy changed.
func (r *Reconciler) configsInNamespace(ctx context.Context, ns client.Object) []reconcile.Request {
	list := &ssmv1alpha1.SsmConfigList{}
	if err := r.Client.List(ctx, list, client.InNamespace(ns.GetName())); err != nil {
		return nil
	}
	requests := make([]reconcile.Request, len(list.Items))
	for i, item := range list.Items {
		requests[i] = reconcile.Request{NamespacedName: types.NamespacedName{Namespace: item.Namespace, Name: item.Name}}
	}
	return requests
}
