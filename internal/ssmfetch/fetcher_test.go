package ssmfetch

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"
)

// Every test drives the Fetcher inside a synctest bubble: synctest.Wait
// returns once all goroutines are blocked, which makes "all callers have
// queued their names" observable without sleeps, and the bubble fails the
// test if any goroutine is still blocked when it ends (a leak check).

const window = 10 * time.Millisecond

// Fetcher must satisfy controller-runtime's manager.Runnable, restated
// here so the test does not pull in controller-runtime.
var _ interface{ Start(context.Context) error } = (*Fetcher)(nil)

type getResult struct {
	result Result
	err    error
}

// startFetcher runs a Fetcher over fake with a fake clock and stops it,
// checking that Start returns nil, when the test ends.
func startFetcher(t *testing.T, fake *fakeSSM, opts Options) (*Fetcher, *clocktesting.FakeClock) {
	t.Helper()
	clk := clocktesting.NewFakeClock(time.Unix(0, 0))
	opts.Clock, opts.BatchWindow = clk, window
	f := New(fake, opts)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- f.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-stopped)
	})
	return f, clk
}

func getAsync(ctx context.Context, f *Fetcher, names []string) <-chan getResult {
	answer := make(chan getResult, 1)
	go func() {
		result, err := f.Get(ctx, names)
		answer <- getResult{result, err}
	}()
	return answer
}

// getAfterWindow runs one Get, letting the batching window pass once so a
// partial batch is sent too.
func getAfterWindow(f *Fetcher, clk *clocktesting.FakeClock, names []string) (Result, error) {
	answer := getAsync(context.Background(), f, names)
	synctest.Wait()
	clk.Step(window)
	got := <-answer
	return got.result, got.err
}

func pathNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return names
}

func valuesFor(names []string) map[string]string {
	values := make(map[string]string, len(names))
	for _, name := range names {
		values[name] = "secret-of-" + name
	}
	return values
}

func requireNotAnswered(t *testing.T, answer <-chan getResult) {
	t.Helper()
	select {
	case got := <-answer:
		require.Failf(t, "caller answered too early", "got %v, %v", got.result, got.err)
	default:
	}
}

func TestGetSplitsUniqueNamesIntoFullBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		names := pathNames("/app/KEY", 25)
		fake := &fakeSSM{values: valuesFor(names)}
		f, clk := startFetcher(t, fake, Options{})

		result, err := getAfterWindow(f, clk, names)

		require.NoError(t, err)
		assert.Equal(t, []int{10, 10, 5}, fake.callSizes())
		assert.Len(t, result.Parameters, 25)
		assert.Empty(t, result.NotFound)
	})
}

func TestGetCoalescesConcurrentCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := pathNames("/app/P", 50)
		fake := &fakeSSM{values: valuesFor(pool), gate: make(chan struct{})}
		f, _ := startFetcher(t, fake, Options{})

		// Caller i asks for pool[i%5], pool[i%5+5], ...: 10 names each,
		// every name wanted by 20 callers, 50 unique in total.
		const callers = 100
		asked := make([][]string, callers)
		answers := make([]<-chan getResult, callers)
		for i := range callers {
			for j := range 10 {
				asked[i] = append(asked[i], pool[(i+5*j)%len(pool)])
			}
			answers[i] = getAsync(context.Background(), f, asked[i])
		}
		synctest.Wait() // every caller has queued or joined its names
		close(fake.gate)

		for i, answer := range answers {
			got := <-answer
			require.NoError(t, got.err)
			require.Len(t, got.result.Parameters, 10)
			for _, name := range asked[i] {
				assert.Equal(t, "secret-of-"+name, got.result.Parameters[name].Value)
			}
		}
		assert.Equal(t, []int{10, 10, 10, 10, 10}, fake.callSizes())
		var fetched []string
		for _, call := range fake.recordedCalls() {
			fetched = append(fetched, call...)
		}
		assert.ElementsMatch(t, pool, fetched, "each name fetched exactly once")
	})
}

func TestGetJoinsBatchInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeSSM{values: valuesFor([]string{"/app/A"}), gate: make(chan struct{})}
		f, clk := startFetcher(t, fake, Options{})

		first := getAsync(context.Background(), f, []string{"/app/A"})
		synctest.Wait()
		clk.Step(window)
		synctest.Wait()
		require.Len(t, fake.recordedCalls(), 1, "first batch in flight")

		second := getAsync(context.Background(), f, []string{"/app/A"})
		synctest.Wait()
		clk.Step(window)
		synctest.Wait()
		close(fake.gate)

		for _, answer := range []<-chan getResult{first, second} {
			got := <-answer
			require.NoError(t, got.err)
			assert.Equal(t, "secret-of-/app/A", got.result.Parameters["/app/A"].Value)
		}
		assert.Len(t, fake.recordedCalls(), 1)
	})
}

func TestGetPartialBatchWaitsForOldestNamesWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeSSM{values: valuesFor([]string{"/app/A", "/app/B"})}
		f, clk := startFetcher(t, fake, Options{})

		first := getAsync(context.Background(), f, []string{"/app/A"})
		synctest.Wait()
		clk.Step(window / 2)
		second := getAsync(context.Background(), f, []string{"/app/B"})
		synctest.Wait()
		clk.Step(window/2 - time.Nanosecond)
		synctest.Wait()
		assert.Empty(t, fake.recordedCalls(), "window of /app/A still open")

		clk.Step(time.Nanosecond)
		require.NoError(t, (<-first).err)
		require.NoError(t, (<-second).err)
		assert.Equal(t, [][]string{{"/app/A", "/app/B"}}, fake.recordedCalls())
	})
}

func TestGetCallsRunConcurrentlyUpToMaxInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		names := pathNames("/app/KEY", 50)
		fake := &fakeSSM{values: valuesFor(names), gate: make(chan struct{})}
		f, _ := startFetcher(t, fake, Options{MaxInFlight: 2})

		answer := getAsync(context.Background(), f, names)
		synctest.Wait()
		assert.Len(t, fake.recordedCalls(), 2, "two calls in flight, the rest queued")

		close(fake.gate)
		got := <-answer
		require.NoError(t, got.err)
		assert.Len(t, got.result.Parameters, 50)
		assert.Equal(t, []int{10, 10, 10, 10, 10}, fake.callSizes())
	})
}

func TestGetBatchErrorReachesOnlyCallersOfThatBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		failing := append(pathNames("/app/A", 9), "/app/BAD")
		healthy := pathNames("/app/H", 10)
		sdkErr := &smithy.OperationError{
			ServiceID:     "SSM",
			OperationName: "GetParameters",
			Err:           &types.InternalServerError{Message: aws.String("boom")},
		}
		fake := &fakeSSM{
			values:   valuesFor(append(failing, healthy...)),
			failWhen: map[string]error{"/app/BAD": sdkErr},
			gate:     make(chan struct{}),
		}
		f, _ := startFetcher(t, fake, Options{})

		// Each full set of 10 is sent as its own batch at once; the joiners
		// ask while those batches are in flight.
		owner := getAsync(context.Background(), f, failing)
		synctest.Wait()
		bystander := getAsync(context.Background(), f, healthy)
		synctest.Wait()
		joiner := getAsync(context.Background(), f, failing[:1])
		healthyJoiner := getAsync(context.Background(), f, healthy[:1])
		synctest.Wait()
		close(fake.gate)

		for _, answer := range []<-chan getResult{owner, joiner} {
			err := (<-answer).err
			var opErr *smithy.OperationError
			var serverErr *types.InternalServerError
			require.ErrorAs(t, err, &opErr)
			require.ErrorAs(t, err, &serverErr)
			assert.NotContains(t, err.Error(), "secret-of-")
		}
		for _, answer := range []<-chan getResult{bystander, healthyJoiner} {
			require.NoError(t, (<-answer).err)
		}
		assert.Equal(t, []int{10, 10}, fake.callSizes())
	})
}

func TestGetCancelledCallerLeavesOthersWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeSSM{values: valuesFor([]string{"/app/A"}), gate: make(chan struct{})}
		f, clk := startFetcher(t, fake, Options{})
		ctx, cancel := context.WithCancel(context.Background())

		leaving := getAsync(ctx, f, []string{"/app/A"})
		staying := getAsync(context.Background(), f, []string{"/app/A"})
		synctest.Wait()
		clk.Step(window)
		synctest.Wait()
		cancel()

		require.ErrorIs(t, (<-leaving).err, context.Canceled)
		synctest.Wait()
		requireNotAnswered(t, staying)
		close(fake.gate)
		got := <-staying
		require.NoError(t, got.err)
		assert.Equal(t, "secret-of-/app/A", got.result.Parameters["/app/A"].Value)
		assert.Len(t, fake.recordedCalls(), 1)
	})
}

func TestGetWithEndedCtxQueuesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeSSM{values: valuesFor([]string{"/app/A"})}
		f, clk := startFetcher(t, fake, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		_, err := f.Get(ctx, []string{"/app/A"})
		clk.Step(window)
		synctest.Wait()

		require.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, fake.recordedCalls())
	})
}

func TestGetAnswers(t *testing.T) {
	values := map[string]string{
		"/app/KEY":      "latest",
		"/app/KEY:3":    "v3",
		"/app/KEY:prod": "prod",
		"/app/LIST":     "a,b,c",
	}
	tests := []struct {
		name         string
		ask          []string
		wantValues   map[string]string
		wantNotFound []string
		wantCalls    [][]string
	}{
		{
			name:       "plain name",
			ask:        []string{"/app/KEY"},
			wantValues: map[string]string{"/app/KEY": "latest"},
			wantCalls:  [][]string{{"/app/KEY"}},
		},
		{
			name:       "version and label selectors map back to the requested name",
			ask:        []string{"/app/KEY:prod", "/app/KEY", "/app/KEY:3"},
			wantValues: map[string]string{"/app/KEY": "latest", "/app/KEY:3": "v3", "/app/KEY:prod": "prod"},
			wantCalls:  [][]string{{"/app/KEY", "/app/KEY:3", "/app/KEY:prod"}},
		},
		{
			name:         "unknown names, versions and labels are not found, sorted",
			ask:          []string{"/app/nope", "/app/KEY:9", "/app/KEY", "/app/KEY:staging"},
			wantValues:   map[string]string{"/app/KEY": "latest"},
			wantNotFound: []string{"/app/KEY:9", "/app/KEY:staging", "/app/nope"},
			wantCalls:    [][]string{{"/app/KEY", "/app/KEY:9", "/app/KEY:staging", "/app/nope"}},
		},
		{
			name:       "name requested by ARN",
			ask:        []string{fakeARNPrefix + "/app/KEY:3"},
			wantValues: map[string]string{fakeARNPrefix + "/app/KEY:3": "v3"},
			wantCalls:  [][]string{{fakeARNPrefix + "/app/KEY:3"}},
		},
		{
			name:       "duplicates in one call are fetched once",
			ask:        []string{"/app/KEY", "/app/KEY"},
			wantValues: map[string]string{"/app/KEY": "latest"},
			wantCalls:  [][]string{{"/app/KEY"}},
		},
		{
			name:       "StringList value kept verbatim",
			ask:        []string{"/app/LIST"},
			wantValues: map[string]string{"/app/LIST": "a,b,c"},
			wantCalls:  [][]string{{"/app/LIST"}},
		},
		{
			name:      "no names",
			ask:       nil,
			wantCalls: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake := &fakeSSM{values: values}
				f, clk := startFetcher(t, fake, Options{})

				result, err := getAfterWindow(f, clk, tt.ask)

				require.NoError(t, err)
				gotValues := make(map[string]string)
				for key, param := range result.Parameters {
					assert.Equal(t, key, param.Name)
					gotValues[key] = param.Value
				}
				assert.Equal(t, tt.wantValues, map[string]string(nilIfEmpty(gotValues)))
				assert.Equal(t, tt.wantNotFound, result.NotFound)
				assert.Equal(t, tt.wantCalls, fake.recordedCalls())
				for _, in := range fake.inputs {
					assert.True(t, aws.ToBool(in.WithDecryption), "WithDecryption")
				}
			})
		})
	}
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func TestGetSelectorKeepsVersionAndMetadata(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeSSM{values: map[string]string{"/app/KEY:3": "v3"}}
		f, clk := startFetcher(t, fake, Options{})

		result, err := getAfterWindow(f, clk, []string{"/app/KEY:3"})

		require.NoError(t, err)
		assert.Equal(t, Parameter{
			Name:    "/app/KEY:3",
			Value:   "v3",
			Type:    "SecureString",
			Version: 3,
			ARN:     fakeARNPrefix + "/app/KEY",
		}, result.Parameters["/app/KEY:3"])
	})
}

func TestGetRejectsInvalidNamesBeforeBatching(t *testing.T) {
	tests := []struct {
		name string
		ask  []string
	}{
		{name: "empty", ask: []string{"/app/KEY", ""}},
		{name: "inner space", ask: []string{"/app/MY KEY"}},
		{name: "surrounding space", ask: []string{" /app/KEY"}},
		{name: "too long", ask: []string{"/" + strings.Repeat("k", maxNameLength)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake := &fakeSSM{}
				f, _ := startFetcher(t, fake, Options{})

				_, err := f.Get(context.Background(), tt.ask)

				require.ErrorIs(t, err, ErrInvalidName)
				assert.Empty(t, fake.recordedCalls())
			})
		})
	}
}

func TestLifecycle(t *testing.T) {
	t.Run("Get before Start waits for Start", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fake := &fakeSSM{values: valuesFor([]string{"/app/KEY"})}
			clk := clocktesting.NewFakeClock(time.Unix(0, 0))
			f := New(fake, Options{Clock: clk, BatchWindow: window})
			answer := getAsync(context.Background(), f, []string{"/app/KEY"})
			synctest.Wait()
			requireNotAnswered(t, answer)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { _ = f.Start(ctx) }()
			synctest.Wait()
			clk.Step(window)

			got := <-answer
			require.NoError(t, got.err)
			assert.Equal(t, "secret-of-/app/KEY", got.result.Parameters["/app/KEY"].Value)
		})
	})

	t.Run("Get without Start ends with the caller's ctx", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := New(&fakeSSM{}, Options{})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := f.Get(ctx, []string{"/app/KEY"})
			require.ErrorIs(t, err, context.DeadlineExceeded)
		})
	})

	t.Run("Start runs once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f, _ := startFetcher(t, &fakeSSM{}, Options{})
			synctest.Wait()
			require.Error(t, f.Start(context.Background()))
		})
	})

	t.Run("stopping releases every caller and leaks nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			names := pathNames("/app/KEY", 11)
			fake := &fakeSSM{values: valuesFor(names), gate: make(chan struct{})}
			f := New(fake, Options{Clock: clocktesting.NewFakeClock(time.Unix(0, 0))})
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan error)
			go func() { stopped <- f.Start(ctx) }()

			inFlight := getAsync(context.Background(), f, names[:10])
			synctest.Wait()
			queued := getAsync(context.Background(), f, names[10:])
			synctest.Wait()
			require.Len(t, fake.recordedCalls(), 1, "one batch in flight, one name queued")

			cancel()
			require.NoError(t, <-stopped)
			f.mu.Lock()
			assert.Empty(t, f.fetches, "Start returns only after every fetch is answered")
			f.mu.Unlock()
			require.ErrorIs(t, (<-inFlight).err, context.Canceled)
			require.ErrorIs(t, (<-queued).err, ErrStopped)
			_, err := f.Get(context.Background(), names)
			require.ErrorIs(t, err, ErrStopped)
			// Returning lets synctest check no goroutine of the bubble is
			// left blocked: the dispatcher and batch goroutines are gone.
		})
	})
}

func TestParameterFormattingRedactsValue(t *testing.T) {
	p := Parameter{Name: "/app/KEY", Value: "hunter2", Type: "SecureString", Version: 4}
	r := Result{Parameters: map[string]Parameter{p.Name: p}}

	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(verb, p), "hunter2", verb)
		assert.NotContains(t, fmt.Sprintf(verb, r), "hunter2", verb)
	}
	assert.Contains(t, p.String(), "/app/KEY")
}
