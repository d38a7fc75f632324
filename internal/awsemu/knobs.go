package awsemu

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Outcomes recorded by the call counters besides the error codes.
const (
	OutcomeOK              = "ok"
	OutcomeConnectionReset = "ConnectionReset"
	OutcomeTimeout         = "Timeout"
)

// CallCount is how many calls of one operation ended with one outcome:
// OutcomeOK, OutcomeConnectionReset, OutcomeTimeout or an AWS error code.
type CallCount struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Outcome   string `json:"outcome"`
	Count     int    `json:"count"`
}

// Faults makes a share of a service's calls fail before they reach the
// operation. Percentages are of all calls and must add up to at most 100.
type Faults struct {
	// InternalErrorPercent answers with the service's HTTP 500 error.
	InternalErrorPercent float64 `json:"internalErrorPercent"`
	// ConnectionResetPercent drops the connection without a response.
	ConnectionResetPercent float64 `json:"connectionResetPercent"`
	// TimeoutPercent holds the call until the client gives up.
	TimeoutPercent float64 `json:"timeoutPercent"`
	// Limit stops injecting after this many faults; 0 means no limit.
	Limit int `json:"limit"`
}

type faultKind int

const (
	faultNone faultKind = iota
	faultInternalError
	faultConnectionReset
	faultTimeout
)

type callKey struct{ service, operation, outcome string }

// limiterKey selects a rate limiter; an empty operation covers the service.
type limiterKey struct{ service, operation string }

type faultState struct {
	Faults
	injected int
}

// knobs holds the test and benchmark controls and the call records.
type knobs struct {
	mu        sync.Mutex
	counts    map[callKey]int
	actions   map[string]struct{}
	limiters  map[limiterKey]*rate.Limiter
	latencies map[string]time.Duration
	faults    map[string]*faultState
	random    *rand.Rand
}

func newKnobs(seed uint64) *knobs {
	return &knobs{
		counts:    map[callKey]int{},
		actions:   map[string]struct{}{},
		limiters:  map[limiterKey]*rate.Limiter{},
		latencies: map[string]time.Duration{},
		faults:    map[string]*faultState{},
		random:    rand.New(rand.NewPCG(seed, seed)),
	}
}

func (k *knobs) count(service, operation, outcome string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.counts[callKey{service, operation, outcome}]++
}

func (k *knobs) recordAction(action string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.actions[action] = struct{}{}
}

func (k *knobs) latency(service string) time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.latencies[service]
}

// fault decides whether to inject a fault into the next call of service.
func (k *knobs) fault(service string) faultKind {
	k.mu.Lock()
	defer k.mu.Unlock()
	f := k.faults[service]
	if f == nil || (f.Limit > 0 && f.injected >= f.Limit) {
		return faultNone
	}
	roll := k.random.Float64() * 100
	kind := faultNone
	switch {
	case roll < f.InternalErrorPercent:
		kind = faultInternalError
	case roll < f.InternalErrorPercent+f.ConnectionResetPercent:
		kind = faultConnectionReset
	case roll < f.InternalErrorPercent+f.ConnectionResetPercent+f.TimeoutPercent:
		kind = faultTimeout
	}
	if kind != faultNone {
		f.injected++
	}
	return kind
}

// allow takes a token from the operation's and the service's buckets.
func (k *knobs) allow(service, operation string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, key := range []limiterKey{{service, operation}, {service, ""}} {
		if limiter := k.limiters[key]; limiter != nil && !limiter.AllowN(now, 1) {
			return false
		}
	}
	return true
}

func (e *Emulator) checkService(service string, operations []string) error {
	svc, ok := e.services[service]
	if !ok {
		return fmt.Errorf("unknown service %q (want %s, %s or %s)", service, ServiceSSM, ServiceIAM, ServiceSTS)
	}
	for _, op := range operations {
		if _, ok := svc.operations[op]; !ok {
			return fmt.Errorf("service %s has no operation %q", service, op)
		}
	}
	return nil
}

// SetRateLimit puts operations of service behind one shared token bucket
// refilled at perSecond up to burst, as AWS's per-account API quotas do.
// Calls over the limit get the service's throttling error. No operations
// means the whole service. Setting a limit again replaces it.
func (e *Emulator) SetRateLimit(service string, operations []string, perSecond float64, burst int) error {
	if err := e.checkService(service, operations); err != nil {
		return err
	}
	if perSecond <= 0 || burst < 1 {
		return fmt.Errorf("rate limit needs perSecond > 0 and burst >= 1, got %v and %d", perSecond, burst)
	}
	limiter := rate.NewLimiter(rate.Limit(perSecond), burst)
	e.knobs.mu.Lock()
	defer e.knobs.mu.Unlock()
	if len(operations) == 0 {
		e.knobs.limiters[limiterKey{service, ""}] = limiter
	}
	for _, op := range operations {
		e.knobs.limiters[limiterKey{service, op}] = limiter
	}
	return nil
}

// ClearRateLimits removes every rate limit.
func (e *Emulator) ClearRateLimits() {
	e.knobs.mu.Lock()
	defer e.knobs.mu.Unlock()
	clear(e.knobs.limiters)
}

// SetLatency delays every call of service by d before it is handled; zero
// removes the delay.
func (e *Emulator) SetLatency(service string, d time.Duration) error {
	if err := e.checkService(service, nil); err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("latency must not be negative, got %v", d)
	}
	e.knobs.mu.Lock()
	defer e.knobs.mu.Unlock()
	e.knobs.latencies[service] = d
	return nil
}

// SetFaults injects faults into calls of service, replacing earlier ones.
func (e *Emulator) SetFaults(service string, f Faults) error {
	if err := e.checkService(service, nil); err != nil {
		return err
	}
	total := f.InternalErrorPercent + f.ConnectionResetPercent + f.TimeoutPercent
	if f.InternalErrorPercent < 0 || f.ConnectionResetPercent < 0 || f.TimeoutPercent < 0 || total > 100 || f.Limit < 0 {
		return fmt.Errorf("fault percentages must be between 0 and 100 in total and the limit not negative, got %+v", f)
	}
	e.knobs.mu.Lock()
	defer e.knobs.mu.Unlock()
	e.knobs.faults[service] = &faultState{Faults: f}
	return nil
}

// ClearFaults stops all fault injection.
func (e *Emulator) ClearFaults() {
	e.knobs.mu.Lock()
	defer e.knobs.mu.Unlock()
	clear(e.knobs.faults)
}

// SetIAMEventualConsistency makes each role invisible to every API but
// CreateRole for delay after its creation, as IAM's replication lag does:
// GetRole, AttachRolePolicy and friends answer NoSuchEntity and
// AssumeRoleWithWebIdentity answers AccessDenied. Zero turns it off.
func (e *Emulator) SetIAMEventualConsistency(delay time.Duration) {
	e.iam.setPropagationDelay(delay)
}

// Snapshot returns the call counters sorted by service, operation, outcome.
func (e *Emulator) Snapshot() []CallCount {
	e.knobs.mu.Lock()
	defer e.knobs.mu.Unlock()
	counts := make([]CallCount, 0, len(e.knobs.counts))
	for key, n := range e.knobs.counts {
		counts = append(counts, CallCount{Service: key.service, Operation: key.operation, Outcome: key.outcome, Count: n})
	}
	sort.Slice(counts, func(i, j int) bool {
		a, b := counts[i], counts[j]
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Operation != b.Operation {
			return a.Operation < b.Operation
		}
		return a.Outcome < b.Outcome
	})
	return counts
}

// CallCount returns how many calls of service's operation ended in outcome.
func (e *Emulator) CallCount(service, operation, outcome string) int {
	e.knobs.mu.Lock()
	defer e.knobs.mu.Unlock()
	return e.knobs.counts[callKey{service, operation, outcome}]
}

// ResetCounters clears the call counters and the recorded actions.
func (e *Emulator) ResetCounters() {
	e.knobs.mu.Lock()
	defer e.knobs.mu.Unlock()
	clear(e.knobs.counts)
	clear(e.knobs.actions)
}

// Actions returns every IAM-style action called so far, such as
// "iam:CreateRole" or "sts:GetCallerIdentity", sorted, for checking that a
// policy grants least privilege.
func (e *Emulator) Actions() []string {
	e.knobs.mu.Lock()
	defer e.knobs.mu.Unlock()
	actions := make([]string, 0, len(e.knobs.actions))
	for action := range e.knobs.actions {
		actions = append(actions, action)
	}
	sort.Strings(actions)
	return actions
}
