package main

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	ssmcontroller "github.com/605-tv/k8s-aws-operator/controllers/ssm"
)

// ssmCounts are cumulative tallies of what the operator wrote; a phase subtracts two snapshots.
type ssmCounts struct {
	// SecretWrites are creations, changes and deletions of managed Secrets.
	SecretWrites int
	// Events are Events about SsmConfigs created or updated (an Event series is updated).
	Events int
	// StatusWrites are SsmConfig changes that kept the generation.
	StatusWrites int
	// ThrottledStatuses are changes of the Ready condition to reason Throttled.
	ThrottledStatuses int
}

func (c ssmCounts) minus(earlier ssmCounts) ssmCounts {
	return ssmCounts{
		SecretWrites:      c.SecretWrites - earlier.SecretWrites,
		Events:            c.Events - earlier.Events,
		StatusWrites:      c.StatusWrites - earlier.StatusWrites,
		ThrottledStatuses: c.ThrottledStatuses - earlier.ThrottledStatuses,
	}
}

// ssmObserver watches SsmConfigs, managed Secrets and Events, and records when each change was seen.
type ssmObserver struct {
	mu sync.Mutex
	// readyAt is when each SsmConfig was first seen Ready for its generation.
	readyAt map[types.NamespacedName]time.Time
	counts  ssmCounts
}

func startSSMObserver(ctx context.Context, restCfg *rest.Config) (*ssmObserver, error) {
	o := &ssmObserver{readyAt: map[types.NamespacedName]time.Time{}}
	managed := labels.SelectorFromSet(labels.Set{ssmcontroller.ManagedByLabel: ssmcontroller.ManagedByValue})
	// Only managed Secrets are watched, so the unrelated ones of scenario 4 cost this process nothing.
	byObject := map[client.Object]cache.ByObject{&corev1.Secret{}: {Label: managed}}
	return o, watchChanges(ctx, restCfg, byObject, map[client.Object]changeHandler{
		&ssmv1alpha1.SsmConfig{}: o.onConfig,
		&corev1.Secret{}:         o.onSecret,
		&eventsv1.Event{}:        o.onEvent,
	})
}

func (o *ssmObserver) onSecret(_, _ client.Object) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts.SecretWrites++
}

func (o *ssmObserver) onEvent(_, current client.Object) {
	if event, ok := current.(*eventsv1.Event); !ok || event.Regarding.Kind != "SsmConfig" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts.Events++
}

func (o *ssmObserver) onConfig(old, current client.Object) {
	obj, ok := current.(*ssmv1alpha1.SsmConfig)
	if !ok {
		return
	}
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if old != nil && old.GetGeneration() == obj.Generation {
		o.counts.StatusWrites++
	}
	ready := meta.FindStatusCondition(obj.Status.Conditions, ssmcontroller.ConditionReady)
	if ready != nil && ready.Reason == ssmcontroller.ReasonThrottled && !wasThrottled(old) {
		o.counts.ThrottledStatuses++
	}
	key := client.ObjectKeyFromObject(obj)
	_, seen := o.readyAt[key]
	if ready != nil && ready.Status == metav1.ConditionTrue && obj.Status.ObservedGeneration == obj.Generation && !seen {
		o.readyAt[key] = now
	}
}

func wasThrottled(old client.Object) bool {
	obj, ok := old.(*ssmv1alpha1.SsmConfig)
	if !ok {
		return false
	}
	ready := meta.FindStatusCondition(obj.Status.Conditions, ssmcontroller.ConditionReady)
	return ready != nil && ready.Reason == ssmcontroller.ReasonThrottled
}

func (o *ssmObserver) snapshot() ssmCounts {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts
}

// ready reports how many SsmConfigs have been Ready for their generation, and when the last of
// them was first seen so.
func (o *ssmObserver) ready() (n int, last time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, at := range o.readyAt {
		last = latest(last, at)
	}
	return len(o.readyAt), last
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
