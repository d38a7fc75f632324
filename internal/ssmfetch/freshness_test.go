package ssmfetch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"
)

const maxAge = 100 * time.Second

// getWithin runs one GetWithin, letting the batching window pass once.
func getWithin(t *testing.T, f *Fetcher, clk *clocktesting.FakeClock, names []string) Result {
	t.Helper()
	answer := make(chan getResult, 1)
	go func() {
		result, err := f.GetWithin(context.Background(), names, maxAge)
		answer <- getResult{result, err}
	}()
	synctest.Wait()
	clk.Step(window)
	got := <-answer
	require.NoError(t, got.err)
	return got.result
}

// advance moves the clock in steps no longer than the batching window's, so that every timer
// fires at its time and every batch it sends lands before the next step.
func advance(clk *clocktesting.FakeClock, d time.Duration) {
	for d > 0 {
		step := min(d, time.Second)
		clk.Step(step)
		synctest.Wait()
		d -= step
	}
}

func TestGetWithinServesRecentAnswersFromMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		names := pathNames("/app/K", 15)
		fake := &fakeSSM{values: valuesFor(names)}
		f, clk := startFetcher(t, fake, Options{})

		first := getWithin(t, f, clk, names[:10])
		advance(clk, 30*time.Second)
		second := getWithin(t, f, clk, append(names[5:], "/app/MISSING"))

		assert.Len(t, first.Parameters, 10)
		assert.Len(t, second.Parameters, 10, "five from memory, five read")
		assert.Equal(t, []string{"/app/MISSING"}, second.NotFound)
		assert.Equal(t, [][]string{names[:10], append(slices.Clone(names[10:]), "/app/MISSING")}, fake.recordedCalls())
	})
}

// Keys still wanted are re-read ahead of their callers, in full batches while they are early and
// all of them at maxAge, so that callers keep finding them in memory.
func TestKeptKeysAreReReadInFullBatchesBeforeTheyAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		names := pathNames("/app/K", 25)
		fake := &fakeSSM{values: valuesFor(names)}
		f, clk := startFetcher(t, fake, Options{})
		getWithin(t, f, clk, names)
		require.Equal(t, []int{10, 10, 5}, fake.callSizes())

		advance(clk, maxAge*9/10)
		assert.Equal(t, []int{10, 10, 5, 10, 10}, fake.callSizes(), "early: only full batches")
		advance(clk, maxAge/10+time.Second)
		assert.Equal(t, []int{10, 10, 5, 10, 10, 5}, fake.callSizes(), "at maxAge: the rest")

		calls := len(fake.callSizes())
		again := getWithin(t, f, clk, names)
		assert.Len(t, again.Parameters, 25)
		assert.Len(t, fake.callSizes(), calls, "a caller finds every key fresh in memory")
	})
}

func TestReReadReportsChangedAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		names := pathNames("/app/K", 10)
		fake := &fakeSSM{values: valuesFor(names)}
		var mu sync.Mutex
		var changed []string
		f, clk := startFetcher(t, fake, Options{OnChange: func(key string) {
			mu.Lock()
			defer mu.Unlock()
			changed = append(changed, key)
		}})
		getWithin(t, f, clk, names)

		fake.values[names[3]] = "rotated"
		delete(fake.values, names[7])
		advance(clk, maxAge)

		mu.Lock()
		defer mu.Unlock()
		assert.ElementsMatch(t, []string{names[3], names[7]}, changed)
		result := getWithin(t, f, clk, names)
		assert.Equal(t, "rotated", result.Parameters[names[3]].Value)
		assert.Equal(t, []string{names[7]}, result.NotFound)
	})
}

// A failed re-read keeps the last answer for callers within maxAge, and is not retried in a loop.
func TestFailedReReadKeepsTheAnswerAndHoldsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		names := pathNames("/app/K", 10)
		fake := &fakeSSM{values: valuesFor(names)}
		f, clk := startFetcher(t, fake, Options{})
		getWithin(t, f, clk, names)

		fake.failWhen = map[string]error{names[0]: errors.New("throttled")}
		advance(clk, maxAge*9/10+time.Second)
		assert.Len(t, fake.callSizes(), 2, "one failed re-read")
		advance(clk, maxAge/20)
		assert.Len(t, fake.callSizes(), 2, "held back for a tenth of maxAge")
		assert.Len(t, getWithin(t, f, clk, names).Parameters, 10, "still fresh enough: from memory")
	})
}

func TestKeysNobodyWantsAreForgotten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		names := pathNames("/app/K", 10)
		fake := &fakeSSM{values: valuesFor(names)}
		f, clk := startFetcher(t, fake, Options{})
		getWithin(t, f, clk, names)

		advance(clk, (forgetAfter+1)*maxAge)
		calls := len(fake.callSizes())
		advance(clk, 2*maxAge)
		assert.Len(t, fake.callSizes(), calls, "no more re-reads")
	})
}
