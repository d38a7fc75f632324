// Package ssmfetch reads AWS SSM Parameter Store parameters for the whole
// operator through one shared Fetcher. Names requested at about the same
// time by concurrent reconciles are de-duplicated and coalesced into full
// GetParameters batches, so refreshing the cluster costs about
// ⌈unique names / 10⌉ calls instead of one call per name.
package ssmfetch

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"k8s.io/utils/clock"
)

// SSMReader is the subset of *ssm.Client the Fetcher uses. Rate limiting
// and retries are the client's job, not the Fetcher's.
type SSMReader interface {
	GetParameters(ctx context.Context, params *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
	GetParametersByPath(ctx context.Context, params *ssm.GetParametersByPathInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
}

var _ SSMReader = (*ssm.Client)(nil)

// ErrStopped is returned by Get once the ctx given to Start has ended,
// including to callers whose names were queued but not yet sent.
var ErrStopped = errors.New("ssmfetch: fetcher stopped")

// Options tune a Fetcher. Zero values select the defaults.
type Options struct {
	// BatchWindow is how long a name may wait for others to fill its batch
	// before a partial batch is sent. Default 30ms: in a creation wave it lets
	// the names of several reconciles fill a batch (see docs/benchmarks.md).
	BatchWindow time.Duration
	// MaxInFlight caps concurrent GetParameters calls. Default 8.
	MaxInFlight int
	// CallTimeout bounds one GetParameters call including SDK retries, so a
	// hung call cannot hold a slot and its callers forever. Default 30s.
	CallTimeout time.Duration
	// Clock measures the batching window. Default the real clock.
	Clock clock.Clock
	// OnChange is told, outside any lock, the key whose value, version or existence a read
	// found different from the answer kept for it (see GetWithin).
	OnChange func(key string)
}

func (o Options) withDefaults() Options {
	if o.BatchWindow <= 0 {
		o.BatchWindow = 30 * time.Millisecond
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 8
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return o
}

type lifecycle int

const (
	notStarted lifecycle = iota
	running
	stopped
)

// Fetcher coalesces parameter reads from many goroutines. Create one per
// process with New, run Start (e.g. by adding it to the controller-runtime
// manager, which starts it once elected leader like the reconcilers it
// serves) and share it.
//
// Start must run for Get to be answered. A Get issued before Start waits
// for it rather than failing, because the manager starts runnables
// concurrently and a reconcile may win the race against Start; without
// Start, Get returns only when its ctx ends.
type Fetcher struct {
	client SSMReader
	opts   Options
	// wake nudges the dispatcher when names are queued; one buffered slot
	// is enough because the dispatcher re-reads the queue on every wake-up.
	wake chan struct{}

	mu    sync.Mutex
	state lifecycle
	// queue holds keys not yet sent, oldest first.
	queue []queuedKey
	// fetches holds every queued or in-flight key, so later callers join it.
	fetches map[string]*fetch
	// answers keeps the last answer of every key a caller wants kept fresh (GetWithin).
	answers map[string]*answer
}

type queuedKey struct {
	key      string
	queuedAt time.Time
}

// fetch is the answer for one key, shared by every caller asking for it
// until the answer arrives. Fields are written before done is closed.
type fetch struct {
	done  chan struct{}
	param Parameter
	found bool
	err   error
}

// New returns a Fetcher reading through client.
func New(client SSMReader, opts Options) *Fetcher {
	return &Fetcher{
		client:  client,
		opts:    opts.withDefaults(),
		wake:    make(chan struct{}, 1),
		fetches: make(map[string]*fetch),
		answers: make(map[string]*answer),
	}
}

// Get returns the parameters for names, which may carry ":version" or
// ":label" selectors, as SSM has them now. It blocks until every name is
// answered, the ctx ends, or the batch holding one of its names fails; that
// batch's error is returned wrapped so errors.As still reaches the SDK error
// types.
func (f *Fetcher) Get(ctx context.Context, names []string) (Result, error) {
	return f.GetWithin(ctx, names, 0)
}

// GetWithin is Get for a caller content with answers read less than maxAge
// ago. Such answers come from memory, and the Fetcher keeps them fresh: a
// key still asked for is re-read shortly before maxAge passes, together with
// the other keys coming due, in full batches, so that every SsmConfig
// sharing a key costs one read of it per maxAge. A re-read that finds a
// changed answer calls Options.OnChange. maxAge 0 reads every name now.
func (f *Fetcher) GetWithin(ctx context.Context, names []string, maxAge time.Duration) (Result, error) {
	if err := ctx.Err(); err != nil {
		// Queuing names for a caller that is already gone would waste a fetch.
		return Result{}, err
	}
	keys, err := uniqueKeys(names)
	if err != nil {
		return Result{}, err
	}
	remembered, missing := f.recall(keys, maxAge)
	if len(missing) == 0 {
		return remembered, nil
	}
	fetches, err := f.enqueue(missing)
	if err != nil {
		return Result{}, err
	}
	result, err := collect(ctx, missing, fetches)
	if err != nil {
		return Result{}, err
	}
	return remembered.merge(result), nil
}

// enqueue registers keys, joining fetches that are already queued or in
// flight, and returns the fetch for each key.
func (f *Fetcher) enqueue(keys []string) ([]*fetch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == stopped {
		return nil, ErrStopped
	}
	fetches := make([]*fetch, len(keys))
	for i, key := range keys {
		fetches[i] = f.joinOrQueueLocked(key)
	}
	f.nudge()
	return fetches, nil
}

// nudge wakes the dispatcher without blocking.
func (f *Fetcher) nudge() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// joinOrQueueLocked returns the fetch of key, queuing one if none is queued
// or in flight.
func (f *Fetcher) joinOrQueueLocked(key string) *fetch {
	fe, ok := f.fetches[key]
	if !ok {
		fe = &fetch{done: make(chan struct{})}
		f.fetches[key] = fe
		f.queue = append(f.queue, queuedKey{key: key, queuedAt: f.opts.Clock.Now()})
	}
	return fe
}

// collect waits for every fetch. Giving up on ctx leaves the fetches
// running for the other callers sharing them.
func collect(ctx context.Context, keys []string, fetches []*fetch) (Result, error) {
	result := Result{Parameters: make(map[string]Parameter, len(keys))}
	for i, fe := range fetches {
		select {
		case <-fe.done:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
		switch {
		case fe.err != nil:
			return Result{}, fe.err
		case fe.found:
			result.Parameters[keys[i]] = fe.param
		default:
			result.NotFound = append(result.NotFound, keys[i])
		}
	}
	return result, nil
}

// Start runs the dispatcher until ctx ends, then fails queued names with
// ErrStopped, waits for in-flight calls (cancelled through ctx) and returns
// nil. It satisfies controller-runtime's manager.Runnable and may run once.
func (f *Fetcher) Start(ctx context.Context) error {
	if err := f.markRunning(); err != nil {
		return err
	}
	var inFlight sync.WaitGroup
	f.dispatch(ctx, &inFlight)
	f.stop()
	inFlight.Wait()
	return nil
}

func (f *Fetcher) markRunning() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state != notStarted {
		return errors.New("ssmfetch: Start called more than once")
	}
	f.state = running
	return nil
}

// dispatch sends batches until ctx ends. A slot is taken before the batch
// is cut, so while all slots are busy the next batch keeps filling up.
func (f *Fetcher) dispatch(ctx context.Context, inFlight *sync.WaitGroup) {
	slots := make(chan struct{}, f.opts.MaxInFlight)
	for f.awaitReadyBatch(ctx) {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		batch := f.takeBatch()
		inFlight.Go(func() {
			defer func() { <-slots }()
			f.fetchBatch(ctx, batch)
		})
	}
}

// awaitReadyBatch blocks until a batch is full or its oldest key has waited
// BatchWindow. It returns false once ctx ends.
func (f *Fetcher) awaitReadyBatch(ctx context.Context) bool {
	for {
		ready, wait := f.batchReadiness()
		if ready {
			return true
		}
		if !f.sleep(ctx, wait) {
			return false
		}
	}
}

// noDeadline tells sleep to wait for a nudge only: an empty queue has no
// window running.
const noDeadline time.Duration = -1

// batchReadiness queues the kept keys coming due, then reports whether a
// batch should be sent now and, if not, how long until the oldest queued
// key's window closes or kept keys come due.
func (f *Fetcher) batchReadiness() (ready bool, wait time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	refreshWait := f.queueDueLocked(f.opts.Clock.Now())
	if len(f.queue) == 0 {
		return false, refreshWait
	}
	if len(f.queue) >= maxBatchSize {
		return true, 0
	}
	wait = f.opts.BatchWindow - f.opts.Clock.Since(f.queue[0].queuedAt)
	if refreshWait != noDeadline {
		wait = min(wait, refreshWait)
	}
	return wait <= 0, wait
}

// sleep waits for d (or only for a nudge when d is noDeadline), for a
// nudge, or for ctx to end, and reports whether ctx is still live.
func (f *Fetcher) sleep(ctx context.Context, d time.Duration) bool {
	var expired <-chan time.Time
	if d != noDeadline {
		timer := f.opts.Clock.NewTimer(d)
		defer timer.Stop()
		expired = timer.C()
	}
	select {
	case <-ctx.Done():
		return false
	case <-f.wake:
	case <-expired:
	}
	return true
}

// takeBatch removes up to maxBatchSize keys from the front of the queue.
// They stay in f.fetches until answered so new callers join them.
func (f *Fetcher) takeBatch() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := min(len(f.queue), maxBatchSize)
	batch := make([]string, n)
	for i, queued := range f.queue[:n] {
		batch[i] = queued.key
	}
	f.queue = f.queue[n:]
	return batch
}

// stop refuses new Gets and fails the keys that were never sent.
func (f *Fetcher) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = stopped
	for _, queued := range f.queue {
		f.settleLocked(queued.key, Parameter{}, false, ErrStopped)
	}
	f.queue = nil
}

func (f *Fetcher) settleLocked(key string, param Parameter, found bool, err error) {
	fe := f.fetches[key]
	delete(f.fetches, key)
	fe.param, fe.found, fe.err = param, found, err
	close(fe.done)
}
