package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
)

// callKey names the calls of one operation with one outcome.
type callKey struct{ service, operation, outcome string }

// calls is what the emulator counted, the authority on what reached "AWS"; a phase subtracts two
// snapshots.
type calls map[callKey]int

func snapshotCalls(emu *awsemu.Emulator) calls {
	c := calls{}
	for _, n := range emu.Snapshot() {
		c[callKey{n.Service, n.Operation, n.Outcome}] = n.Count
	}
	return c
}

func (c calls) minus(earlier calls) calls {
	d := calls{}
	for key, n := range c {
		if n != earlier[key] {
			d[key] = n - earlier[key]
		}
	}
	return d
}

// callFilter selects calls; throttled calls are calls too, as each spends quota.
type callFilter func(callKey) bool

func (c calls) sum(keep callFilter) int {
	n := 0
	for key, v := range c {
		if keep(key) {
			n += v
		}
	}
	return n
}

// byOperation lists the selected calls per operation, e.g. "CreateRole 30, GetRole 90".
func (c calls) byOperation(keep callFilter) string {
	counts := map[string]int{}
	for key, v := range c {
		if keep(key) {
			counts[key.operation] += v
		}
	}
	parts := make([]string, 0, len(counts))
	for op, v := range counts {
		parts = append(parts, fmt.Sprintf("%s %d", op, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// ssmReadOperations are the operations SSM's read quota covers; they share one token bucket.
var ssmReadOperations = []string{"GetParameter", "GetParameters", "GetParametersByPath"}

func ssmReads(k callKey) bool {
	return k.service == awsemu.ServiceSSM && slices.Contains(ssmReadOperations, k.operation)
}

func iamCalls(k callKey) bool { return k.service == awsemu.ServiceIAM }

func iamReads(k callKey) bool {
	return iamCalls(k) && (strings.HasPrefix(k.operation, "Get") || strings.HasPrefix(k.operation, "List"))
}

func iamWrites(k callKey) bool { return iamCalls(k) && !iamReads(k) }

// throttledOnes narrows keep to the calls answered with the service's throttling error.
func throttledOnes(keep callFilter) callFilter {
	return func(k callKey) bool {
		return keep(k) && (k.outcome == ssmThrottlingCode || k.outcome == iamThrottlingCode)
	}
}

// The throttling error codes of SSM and IAM, as the emulator (and AWS) answer them.
const (
	ssmThrottlingCode = "ThrottlingException"
	iamThrottlingCode = "Throttling"
)
