package ssmfetch

import (
	"context"
	"sync"
	"testing"
	"time"
)

// BenchmarkCoalescing simulates cluster refreshes: each iteration 100
// concurrent reconciles ask for 10 names each out of 50 unique names,
// against a client with a 2ms round trip and the real clock. It reports
// GetParameters calls per unique name; 0.1 is the floor (full batches).
func BenchmarkCoalescing(b *testing.B) {
	const callers = 100
	pool := pathNames("/app/P", 50)
	fake := &fakeSSM{values: valuesFor(pool), latency: 2 * time.Millisecond}
	f := New(fake, Options{BatchWindow: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = f.Start(ctx) }()

	for b.Loop() {
		var refresh sync.WaitGroup
		for i := range callers {
			names := make([]string, 10)
			for j := range names {
				names[j] = pool[(i+5*j)%len(pool)]
			}
			refresh.Go(func() {
				if _, err := f.Get(ctx, names); err != nil {
					b.Error(err)
				}
			})
		}
		refresh.Wait()
	}
	b.ReportMetric(float64(len(fake.recordedCalls()))/float64(b.N*len(pool)), "calls/unique-name")
}
