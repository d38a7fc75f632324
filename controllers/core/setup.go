package core

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// ResyncJitter waits up to 10 % longer than interval, so roles created together spread their
// resyncs (and their IAM reads) over time.
func ResyncJitter(interval time.Duration) time.Duration {
	return wait.Jitter(interval, 0.1)
}

// SetupWithManager registers the controller. The manager's cache holds every ServiceAccount; the
// predicates let through those selected now and those still carrying our finalizer, except for
// updates that are only the controller's own writes.
func (r *ServiceAccountReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	r.managed = newManagedRoles()
	if r.Jitter == nil {
		r.Jitter = ResyncJitter
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("serviceaccount-iam").
		For(&corev1.ServiceAccount{}, builder.WithPredicates(
			predicate.NewPredicateFuncs(relevant),
			predicate.TypedFuncs[client.Object]{UpdateFunc: func(e event.UpdateEvent) bool {
				old, oldOK := e.ObjectOld.(*corev1.ServiceAccount)
				updated, newOK := e.ObjectNew.(*corev1.ServiceAccount)
				return !oldOK || !newOK || !r.ownWrite(old, updated)
			}},
		)).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}
