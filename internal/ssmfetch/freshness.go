package ssmfetch

import (
	"sort"
	"time"
)

// answer is the last answer read for a key that callers want kept fresh.
type answer struct {
	param Parameter
	found bool
	// readAt is when the answer was read; zero until the first read lands.
	readAt time.Time
	// maxAge is the shortest freshness a caller asked for lately.
	maxAge time.Duration
	// wantedAt is when a caller last asked for the key; keys nobody asks for
	// any more are forgotten instead of re-read forever.
	wantedAt time.Time
	// retryAt holds back the re-read of a key whose last read failed, so a
	// failing key is not re-read in a loop; its callers still see the failure.
	retryAt time.Time
}

// refreshAhead is how early in its maxAge a kept key becomes due: from then
// on it waits for nine other due keys to share a call, and at maxAge it is
// read however few have joined.
const refreshAhead = 10 // percent of maxAge

// forgetAfter is how many maxAges a kept key survives without being asked for.
const forgetAfter = 3

// recall serves the keys whose kept answer is younger than maxAge and
// returns the rest; it also notes that these keys are wanted that fresh.
func (f *Fetcher) recall(keys []string, maxAge time.Duration) (Result, []string) {
	result := Result{Parameters: map[string]Parameter{}}
	if maxAge <= 0 {
		return result, keys
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.opts.Clock.Now()
	var missing []string
	for _, key := range keys {
		a := f.keepLocked(key, maxAge, now)
		switch {
		case a.readAt.IsZero() || now.Sub(a.readAt) >= maxAge:
			missing = append(missing, key)
		case a.found:
			result.Parameters[key] = a.param
		default:
			result.NotFound = append(result.NotFound, key)
		}
	}
	return result, missing
}

// keepLocked returns key's kept answer, creating it, and records the wish.
func (f *Fetcher) keepLocked(key string, maxAge time.Duration, now time.Time) *answer {
	a, ok := f.answers[key]
	if !ok {
		a = &answer{maxAge: maxAge}
		f.answers[key] = a
	}
	// A shorter wish counts until it has not been repeated for a while.
	if maxAge < a.maxAge || now.Sub(a.wantedAt) > forgetAfter*a.maxAge {
		a.maxAge = maxAge
	}
	a.wantedAt = now
	return a
}

// rememberLocked stores a fresh answer for a kept key and reports whether it
// differs from the one kept before. A failed read keeps the old answer.
func (f *Fetcher) rememberLocked(key string, param Parameter, found bool, err error) bool {
	a, ok := f.answers[key]
	if !ok {
		return false
	}
	if err != nil {
		a.retryAt = f.opts.Clock.Now().Add(a.maxAge * refreshAhead / 100)
		return false
	}
	changed := !a.readAt.IsZero() &&
		(a.found != found || a.param.Value != param.Value || a.param.Version != param.Version)
	a.param, a.found, a.readAt = param, found, f.opts.Clock.Now()
	return changed
}

// queueDueLocked forgets kept keys nobody asks for any more and queues the
// due ones: in multiples of a full batch while they are early, all of them
// once one reaches its maxAge. It returns how long until the next key comes
// due or reaches its maxAge, or noDeadline.
func (f *Fetcher) queueDueLocked(now time.Time) time.Duration {
	type dueKey struct {
		key      string
		deadline time.Time
	}
	var due []dueKey
	next := time.Time{}
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for key, a := range f.answers {
		if now.Sub(a.wantedAt) > forgetAfter*a.maxAge {
			delete(f.answers, key)
			continue
		}
		if _, busy := f.fetches[key]; busy || a.readAt.IsZero() {
			continue
		}
		if now.Before(a.retryAt) {
			later(a.retryAt)
			continue
		}
		deadline := a.readAt.Add(a.maxAge)
		if dueAt := deadline.Add(-a.maxAge * refreshAhead / 100); now.Before(dueAt) {
			later(dueAt)
			continue
		}
		due = append(due, dueKey{key: key, deadline: deadline})
	}
	sort.Slice(due, func(i, j int) bool { return due[i].deadline.Before(due[j].deadline) })
	n := len(due) / maxBatchSize * maxBatchSize
	if len(due) > 0 && !now.Before(due[0].deadline) {
		n = len(due)
	}
	for _, d := range due[:n] {
		f.joinOrQueueLocked(d.key)
	}
	if n < len(due) {
		later(due[n].deadline)
	}
	if next.IsZero() {
		return noDeadline
	}
	return max(next.Sub(now), 0)
}

// merge adds other's answers to r's.
func (r Result) merge(other Result) Result {
	for key, p := range other.Parameters {
		r.Parameters[key] = p
	}
	r.NotFound = append(r.NotFound, other.NotFound...)
	sort.Strings(r.NotFound)
	return r
}
