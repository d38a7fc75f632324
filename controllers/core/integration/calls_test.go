package integration

import (
	"context"
	"maps"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/require"

	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
)

// iamWriteOperations are the IAM calls that change something.
var iamWriteOperations = []string{
	"CreateRole", "DeleteRole", "UpdateAssumeRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
	"PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "TagRole", "UntagRole",
}

// testCalls counts the AWS calls the tests themselves make, so that the emulator's records can be
// split into the operator's calls and ours.
var testCalls = &callCounter{counts: map[string]int{}}

type callCounter struct {
	mu     sync.Mutex
	counts map[string]int // by "service:Operation", the form of IAM actions
}

// count is a middleware after the retryer: one count per attempt, as the emulator counts.
func (c *callCounter) count(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("CountTestCalls",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.counts[strings.ToLower(awsmiddleware.GetServiceID(ctx))+":"+awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (c *callCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

var sdk struct {
	once sync.Once
	cfg  aws.Config
	err  error
}

// awsConfig is the SDK's default configuration (which the bed points at the emulator), with our
// calls counted.
func awsConfig(t require.TestingT) aws.Config {
	sdk.once.Do(func() {
		sdk.cfg, sdk.err = config.LoadDefaultConfig(context.Background(),
			config.WithAPIOptions([]func(*middleware.Stack) error{testCalls.count}))
	})
	require.NoError(t, sdk.err)
	return sdk.cfg
}

func iamClient(t require.TestingT) *iam.Client {
	return iam.NewFromConfig(awsConfig(t))
}

// anonymousSTS calls STS as a pod does before it has credentials: with a token only.
func anonymousSTS(t require.TestingT) *sts.Client {
	return sts.NewFromConfig(awsConfig(t), func(o *sts.Options) { o.Credentials = aws.AnonymousCredentials{} })
}

// callMark is where the call counters stood at one point of a test.
type callMark struct {
	emulator, tests map[string]int
}

func markCalls() callMark {
	return callMark{emulator: emulatorTotals(bed.Emulator.Snapshot()), tests: testCalls.snapshot()}
}

// operatorCallsSince returns the calls the operator made since mark, by "service:Operation": those
// the emulator saw minus those the tests made.
func operatorCallsSince(mark callMark) map[string]int {
	tests := testCalls.snapshot()
	calls := map[string]int{}
	for action, n := range emulatorTotals(bed.Emulator.Snapshot()) {
		if made := (n - mark.emulator[action]) - (tests[action] - mark.tests[action]); made > 0 {
			calls[action] = made
		}
	}
	return calls
}

// emulatorTotals sums the emulator's counters over outcomes, by "service:Operation".
func emulatorTotals(snapshot []awsemu.CallCount) map[string]int {
	totals := map[string]int{}
	for _, c := range snapshot {
		totals[c.Service+":"+c.Operation] += c.Count
	}
	return totals
}

func iamWrites(calls map[string]int) map[string]int {
	writes := map[string]int{}
	for _, op := range iamWriteOperations {
		if n := calls[awsemu.ServiceIAM+":"+op]; n > 0 {
			writes[op] = n
		}
	}
	return writes
}

func okCount(operation string) int {
	return bed.Emulator.CallCount(awsemu.ServiceIAM, operation, awsemu.OutcomeOK)
}
