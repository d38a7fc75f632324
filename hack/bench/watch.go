package main

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/605-tv/k8s-aws-operator/internal/operator"
)

// changeHandler sees every change of an object: old is nil on creation, current nil on deletion.
type changeHandler func(old, current client.Object)

// watchChanges starts informers, through the API server's watch, for each object type of handlers
// and waits until they have listed what exists. They run until ctx ends.
func watchChanges(ctx context.Context, restCfg *rest.Config, byObject map[client.Object]cache.ByObject,
	handlers map[client.Object]changeHandler,
) error {
	c, err := cache.New(restCfg, cache.Options{Scheme: operator.Scheme(), ByObject: byObject})
	if err != nil {
		return err
	}
	for obj, handle := range handlers {
		informer, err := c.GetInformer(ctx, obj)
		if err != nil {
			return err
		}
		if _, err := informer.AddEventHandler(resourceEvents(handle)); err != nil {
			return err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("the benchmark's watches did not sync")
	}
	return nil
}

// resourceEvents adapts a changeHandler; updates that keep the resourceVersion (informer resyncs)
// are not changes.
func resourceEvents(handle changeHandler) toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { handle(nil, obj.(client.Object)) },
		UpdateFunc: func(old, current any) {
			o, c := old.(client.Object), current.(client.Object)
			if o.GetResourceVersion() != c.GetResourceVersion() {
				handle(o, c)
			}
		},
		DeleteFunc: func(obj any) {
			if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = tombstone.Obj
			}
			if o, ok := obj.(client.Object); ok {
				handle(o, nil)
			}
		},
	}
}
