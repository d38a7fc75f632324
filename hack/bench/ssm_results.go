package main

import (
	"fmt"
	"math"
)

// Issue 7's targets for the full mode.
var (
	callsTarget       = ratioAtMost(1.05)
	convergenceTarget = ratioAtMost(1.15)
	zeroTarget        = measuredAtMost(0)
	memoryRatioTarget = ratioAtMost(1.10)
	memoryCeilingMiB  = 100.0
)

func ssmResults(cfg *config, w *ssmWorkload, creation wave, cycle refreshCycle, restart wave, growth memoryGrowth) []result {
	var results []result
	results = append(results, callResults(w, creation, cycle, restart, growth.restart)...)
	results = append(results, convergenceResults(cfg, w, creation, restart)...)
	results = append(results, noOpResults(cycle, restart, growth.restart)...)
	return append(results, memoryResults(growth)...)
}

// readCalls is every SSM read call of a phase, throttled ones included: each spends quota.
func readCalls(c calls) int { return c.sum(ssmReads) }

// callResults is scenario 1: SSM calls per full refresh against ⌈unique names / 10⌉, in each
// way a full refresh happens.
func callResults(w *ssmWorkload, creation wave, cycle refreshCycle, restarts ...wave) []result {
	n := len(w.configs)
	limit := float64(ceilDiv(w.uniqueNames(), getParametersBatch))
	basis := fmt.Sprintf("%d SsmConfigs x %d names, %d unique; per-SsmConfig batching would cost %d",
		n, w.references()/n, w.uniqueNames(), w.perConfigBatches())
	results := []result{
		measured("1", "SSM calls, creation of all at once", "calls", float64(readCalls(creation.calls)), limit, withTarget(callsTarget), basis),
	}
	for i, restart := range restarts {
		results = append(results, measured("1", fmt.Sprintf("SSM calls, full refresh after operator restart #%d (memory empty)", i+1),
			"calls", float64(readCalls(restart.calls)), limit, withTarget(callsTarget), ""))
	}
	// Refreshes are spread over the interval on purpose, so the calls of one cycle are scaled to
	// exactly one refresh of each SsmConfig.
	perRefresh := float64(readCalls(cycle.calls)) / float64(max(cycle.refreshes, 1))
	results = append(results,
		measured("1", "SSM calls per periodic jittered refresh of all", "calls", math.Round(perRefresh*float64(n)), limit, withTarget(callsTarget),
			fmt.Sprintf("%d calls for %d SsmConfig refreshes in %s", readCalls(cycle.calls), cycle.refreshes, cycle.window.Round(timeUnit))),
		measured("1", "reference: one GetParameter per name per refresh", "calls", float64(w.references()), limit, nil, "what the common practice (ESO) costs"),
	)
	return results
}

// convergenceResults is scenario 2: time to converge against the time the account's quota needs
// for the calls made, and throttling.
func convergenceResults(cfg *config, w *ssmWorkload, creation, restart wave) []result {
	ideal := float64(ceilDiv(w.uniqueNames(), getParametersBatch)) / cfg.SSMQuota
	note := func(wv wave) string {
		return fmt.Sprintf("%d calls / %g per s; at ceil(unique/10) calls it would be %.1f s; operator budget %g/s burst %d",
			readCalls(wv.calls), cfg.SSMQuota, ideal, cfg.SSMRateLimit, cfg.SSMRateBurst)
	}
	quotaTime := func(wv wave) float64 { return float64(readCalls(wv.calls)) / cfg.SSMQuota }
	throttles := creation.calls.sum(throttledOnes(ssmReads))
	return []result{
		measured("2", "convergence after creating all at once", "s", inSeconds(creation.duration), quotaTime(creation), withTarget(convergenceTarget),
			fmt.Sprintf("%s; creating them took %s", note(creation), creation.creating.Round(timeUnit))),
		measured("2", "throttling errors that reached status", "", float64(creation.counts.ThrottledStatuses), 0, withTarget(zeroTarget), ""),
		measured("2", "reference: throttling errors returned by the emulator", "", float64(throttles), 0, nil, "retried by the SDK"),
		measured("2", "reference: convergence after operator restart", "s", inSeconds(restart.duration), quotaTime(restart), nil, note(restart)),
	}
}

// noOpResults is scenario 3: what refreshes that find nothing new write.
func noOpResults(cycle refreshCycle, restarts ...wave) []result {
	secretWrites, events, statusWrites := cycle.counts.SecretWrites, cycle.counts.Events, cycle.counts.StatusWrites
	refreshes := cycle.refreshes
	for _, r := range restarts {
		secretWrites += r.counts.SecretWrites
		events += r.counts.Events
		statusWrites += r.counts.StatusWrites
		refreshes += r.refreshes
	}
	where := fmt.Sprintf("over %d no-op refreshes (one periodic cycle and %d restarts)", refreshes, len(restarts))
	return []result{
		measured("3", "Secret writes in no-op refreshes", "", float64(secretWrites), 0, withTarget(zeroTarget), where),
		measured("3", "Events in no-op refreshes", "", float64(events), 0, withTarget(zeroTarget), where),
		measured("3", "SsmConfig status writes in no-op refreshes", "", float64(statusWrites), 0, withTarget(zeroTarget), where),
	}
}

// memoryResults is scenario 4: the operator's peak RSS without and with unrelated Secrets.
func memoryResults(g memoryGrowth) []result {
	added := fmt.Sprintf("%d unrelated Secrets added in %s", g.secrets, g.adding.Round(timeUnit))
	return []result{
		measured("4", "peak RSS after adding unrelated Secrets (same process)", "MiB", round1(g.with.PeakMiB), round1(g.without.PeakMiB),
			withTarget(memoryRatioTarget), fmt.Sprintf("%s; VmRSS %.1f -> %.1f MiB", added, g.without.CurrentMiB, g.with.CurrentMiB)),
		measured("4", "peak RSS of an operator started among them", "MiB", round1(g.freshWith.PeakMiB), round1(g.without.PeakMiB),
			withTarget(memoryRatioTarget), fmt.Sprintf("both after a restart wave; VmRSS %.1f MiB", g.freshWith.CurrentMiB)),
		measured("4", "peak RSS, absolute", "MiB", round1(max(g.with.PeakMiB, g.freshWith.PeakMiB)), memoryCeilingMiB,
			withTarget(ratioAtMost(1)), ""),
	}
}
