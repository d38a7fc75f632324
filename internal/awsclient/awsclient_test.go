package awsclient

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
	"github.com/605-tv/k8s-aws-operator/internal/metrics"
)

func TestUseOpenShiftSTS(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{name: "not on OpenShift STS", env: map[string]string{}, want: map[string]string{}},
		{name: "ROLEARN from the Subscription",
			env: map[string]string{"ROLEARN": "arn:aws:iam::1:role/op"},
			want: map[string]string{"ROLEARN": "arn:aws:iam::1:role/op", "AWS_ROLE_ARN": "arn:aws:iam::1:role/op",
				"AWS_WEB_IDENTITY_TOKEN_FILE": openShiftTokenFile}},
		{name: "IRSA already configured wins",
			env:  map[string]string{"ROLEARN": "arn:aws:iam::1:role/op", "AWS_ROLE_ARN": "arn:aws:iam::1:role/irsa"},
			want: map[string]string{"ROLEARN": "arn:aws:iam::1:role/op", "AWS_ROLE_ARN": "arn:aws:iam::1:role/irsa"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			UseOpenShiftSTS(func(k string) string { return env[k] }, func(k, v string) error { env[k] = v; return nil })
			assert.Equal(t, tc.want, env)
		})
	}
}

func TestOutcome(t *testing.T) {
	assert.Equal(t, "ok", Outcome(nil))
	assert.Equal(t, "ThrottlingException", Outcome(&smithy.GenericAPIError{Code: "ThrottlingException"}))
	assert.Equal(t, "transport", Outcome(errors.New("connection reset")))
}

func TestRateBudgetIsShared(t *testing.T) {
	budget := newLimiter(1, 1)
	assert.True(t, budget.Allow(), "the burst")
	assert.False(t, budget.Allow(), "then one per second")
	assert.True(t, newLimiter(0, 0).Allow(), "zero rate means unlimited")
	assert.NoError(t, newLimiter(0, 0).Wait(context.Background()))
}

// Every SSM call, retries included, waits on the shared budget, and every attempt is counted.
func TestClientsWaitOnTheBudgetAndCountAttempts(t *testing.T) {
	emu := awsemu.New(awsemu.Options{})
	t.Cleanup(emu.Close)
	t.Setenv("AWS_ENDPOINT_URL", emu.Start())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIATEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	clients, err := New(context.Background(), Options{MaxAttempts: 3, SSMRate: 0.001, SSMBurst: 1})
	require.NoError(t, err)
	require.NoError(t, emu.PutParameter("/budget/A", "a", "String"))

	before := testutil.ToFloat64(metrics.AWSCalls.WithLabelValues("SSM", "GetParameter", "ok"))
	_, err = clients.SSM.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/budget/A")})
	require.NoError(t, err, "the burst lets the first call through")
	assert.Equal(t, before+1, testutil.ToFloat64(metrics.AWSCalls.WithLabelValues("SSM", "GetParameter", "ok")))

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = clients.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/budget/A")})
	require.Error(t, err, "the next token is ~1000 s away: the call waits on the budget, never reaching SSM")
	assert.Equal(t, 1, emu.CallCount("ssm", "GetParameter", "ok"))
}
