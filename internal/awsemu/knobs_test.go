package awsemu

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func isThrottle(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}

func isRetryable(err error) bool {
	return retry.NewStandard().IsErrorRetryable(err)
}

func getParameter(t *testing.T, client *ssm.Client, name string) error {
	_, err := client.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String(name)})
	return err
}

func TestCallCountersAndActions(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, env.emu.PutParameter("/x", "1", ParameterTypeString))
	require.NoError(t, getParameter(t, env.ssm, "/x"))
	require.NoError(t, getParameter(t, env.ssm, "/x"))
	require.Error(t, getParameter(t, env.ssm, "/missing"))
	_, err := env.sts.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	_, err = env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("none")})
	require.Error(t, err)

	assert.Equal(t, []CallCount{
		{Service: "iam", Operation: "GetRole", Outcome: "NoSuchEntity", Count: 1},
		{Service: "ssm", Operation: "GetParameter", Outcome: "ParameterNotFound", Count: 1},
		{Service: "ssm", Operation: "GetParameter", Outcome: OutcomeOK, Count: 2},
		{Service: "sts", Operation: "GetCallerIdentity", Outcome: OutcomeOK, Count: 1},
	}, env.emu.Snapshot())
	assert.Equal(t, 2, env.emu.CallCount(ServiceSSM, "GetParameter", OutcomeOK))
	assert.Equal(t, []string{"iam:GetRole", "ssm:GetParameter", "sts:GetCallerIdentity"}, env.emu.Actions())

	env.emu.ResetCounters()
	assert.Empty(t, env.emu.Snapshot())
	assert.Empty(t, env.emu.Actions())
}

func TestSSMRateLimitPerOperationGroup(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, env.emu.PutParameter("/x", "1", ParameterTypeString))
	require.NoError(t, env.emu.SetRateLimit(ServiceSSM, []string{"GetParameter", "GetParameters"}, 1, 2))

	require.NoError(t, getParameter(t, env.ssm, "/x"))
	_, err := env.ssm.GetParameters(ctx(t), &ssm.GetParametersInput{Names: []string{"/x"}})
	require.NoError(t, err)
	err = getParameter(t, env.ssm, "/x")
	var throttled *ssmtypes.ThrottlingException
	require.ErrorAs(t, err, &throttled)
	assert.Equal(t, "Rate exceeded", throttled.ErrorMessage())
	assert.True(t, isThrottle(err))
	assert.True(t, isRetryable(err))

	// Other operations are not in the group.
	_, err = env.ssm.DescribeParameters(ctx(t), &ssm.DescribeParametersInput{})
	require.NoError(t, err)

	env.clock.Advance(time.Second)
	require.NoError(t, getParameter(t, env.ssm, "/x"))
	assert.Equal(t, 1, env.emu.CallCount(ServiceSSM, "GetParameter", "ThrottlingException"))

	env.emu.ClearRateLimits()
	for i := 0; i < 5; i++ {
		require.NoError(t, getParameter(t, env.ssm, "/x"))
	}
}

func TestIAMRateLimitWholeService(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, env.emu.SetRateLimit(ServiceIAM, nil, 10, 1))
	_, err := env.iam.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
	require.NoError(t, err)
	_, err = env.iam.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
	requireAPIErrorCode(t, err, "Throttling")
	assert.True(t, isThrottle(err))

	// With the SDK's retryer the call succeeds once the bucket refills.
	client := iam.NewFromConfig(sdkConfig(retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
			env.clock.Advance(time.Second)
			return 0, nil
		})
	})), func(o *iam.Options) { o.BaseEndpoint = aws.String(env.url) })
	_, err = client.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
	require.NoError(t, err)
}

func TestInjectedInternalErrors(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, env.emu.PutParameter("/x", "1", ParameterTypeString))
	require.NoError(t, env.emu.SetFaults(ServiceSSM, Faults{InternalErrorPercent: 100}))
	require.NoError(t, env.emu.SetFaults(ServiceIAM, Faults{InternalErrorPercent: 100}))

	err := getParameter(t, env.ssm, "/x")
	var internal *ssmtypes.InternalServerError
	require.ErrorAs(t, err, &internal)
	assert.True(t, isRetryable(err))

	_, err = env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("r")})
	var failure *iamtypes.ServiceFailureException
	require.ErrorAs(t, err, &failure)
	assert.True(t, isRetryable(err))

	// Two more faults, then the SDK's retryer gets through.
	require.NoError(t, env.emu.SetFaults(ServiceSSM, Faults{InternalErrorPercent: 100, Limit: 2}))
	client := ssm.NewFromConfig(sdkConfig(fastRetryer(3)), func(o *ssm.Options) { o.BaseEndpoint = aws.String(env.url) })
	require.NoError(t, getParameter(t, client, "/x"))
	assert.Equal(t, 3, env.emu.CallCount(ServiceSSM, "GetParameter", "InternalServerError"))
	assert.Equal(t, 1, env.emu.CallCount(ServiceSSM, "GetParameter", OutcomeOK))

	env.emu.ClearFaults()
	_, err = env.iam.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
	require.NoError(t, err)
}

func TestInjectedConnectionResets(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, env.emu.PutParameter("/x", "1", ParameterTypeString))
	require.NoError(t, env.emu.SetFaults(ServiceSSM, Faults{ConnectionResetPercent: 100, Limit: 1}))
	err := getParameter(t, env.ssm, "/x")
	require.Error(t, err)
	assert.True(t, isRetryable(err), "%v", err)

	require.NoError(t, env.emu.SetFaults(ServiceSSM, Faults{ConnectionResetPercent: 100, Limit: 2}))
	client := ssm.NewFromConfig(sdkConfig(fastRetryer(3)), func(o *ssm.Options) { o.BaseEndpoint = aws.String(env.url) })
	require.NoError(t, getParameter(t, client, "/x"))
	assert.Equal(t, 3, env.emu.CallCount(ServiceSSM, "GetParameter", OutcomeConnectionReset))
}

func TestInjectedTimeouts(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, env.emu.PutParameter("/x", "1", ParameterTypeString))
	require.NoError(t, env.emu.SetFaults(ServiceSSM, Faults{TimeoutPercent: 100, Limit: 1}))

	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := env.ssm.GetParameter(short, &ssm.GetParameterInput{Name: aws.String("/x")})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Eventually(t, func() bool { return env.emu.CallCount(ServiceSSM, "GetParameter", OutcomeTimeout) == 1 }, 5*time.Second, 5*time.Millisecond)

	require.NoError(t, getParameter(t, env.ssm, "/x"))
}

func TestInjectedLatency(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, env.emu.PutParameter("/x", "1", ParameterTypeString))
	require.NoError(t, env.emu.SetLatency(ServiceSSM, 50*time.Millisecond))
	start := time.Now()
	require.NoError(t, getParameter(t, env.ssm, "/x"))
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)

	require.NoError(t, env.emu.SetLatency(ServiceSSM, 0))
	assert.Zero(t, env.emu.knobs.latency(ServiceSSM))
}

func TestCloseReleasesHeldRequests(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, env.emu.SetFaults(ServiceSTS, Faults{TimeoutPercent: 100}))
	done := make(chan error, 1)
	go func() {
		_, err := env.sts.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		done <- err
	}()
	require.Eventually(t, func() bool { return len(env.emu.Actions()) == 1 }, 5*time.Second, 5*time.Millisecond)
	env.emu.Close()
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the held request")
	}
}

func TestKnobValidation(t *testing.T) {
	emu := New(Options{})
	assert.Error(t, emu.SetRateLimit("s3", nil, 1, 1))
	assert.Error(t, emu.SetRateLimit(ServiceSSM, []string{"GetParamter"}, 1, 1))
	assert.Error(t, emu.SetRateLimit(ServiceSSM, nil, 0, 1))
	assert.Error(t, emu.SetRateLimit(ServiceSSM, nil, 1, 0))
	assert.Error(t, emu.SetLatency(ServiceIAM, -time.Second))
	assert.Error(t, emu.SetFaults(ServiceSTS, Faults{InternalErrorPercent: 60, TimeoutPercent: 60}))
	assert.Error(t, emu.SetFaults(ServiceSTS, Faults{InternalErrorPercent: -1}))
	assert.NoError(t, emu.SetFaults(ServiceSTS, Faults{InternalErrorPercent: 50, ConnectionResetPercent: 25, TimeoutPercent: 25}))
}

func TestConcurrentClients(t *testing.T) {
	env := newTestEnv(t, Options{})
	var wg sync.WaitGroup
	for worker := 0; worker < 8; worker++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				name := fmt.Sprintf("/load/w%d/p%d", worker, i)
				_, err := env.ssm.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v"), Type: "String"})
				assert.NoError(t, err)
				_, err = env.ssm.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(name)})
				assert.NoError(t, err)
				_, err = env.iam.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("w%d-r%d", worker, i)), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy)})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 160, env.emu.CallCount(ServiceSSM, "GetParameter", OutcomeOK))
	assert.Equal(t, 160, env.emu.CallCount(ServiceIAM, "CreateRole", OutcomeOK))
}
