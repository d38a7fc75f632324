package integration

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/605-tv/k8s-aws-operator/controllers/core"
	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
	"github.com/605-tv/k8s-aws-operator/internal/operator"
)

// TestCrashAtEachStepConverges stops the operator at each point of a role's creation, then starts
// a new one: it must finish the job with exactly one role, on which nothing is missing.
func TestCrashAtEachStepConverges(t *testing.T) {
	ns := newNamespace(t)

	t.Run("after CreateRole, before any attach", func(t *testing.T) {
		// IAM has not propagated the new role: attaching fails, so the run stops right after CreateRole.
		bed.Emulator.SetIAMEventualConsistency(time.Hour)
		t.Cleanup(func() { bed.Emulator.SetIAMEventualConsistency(0) })
		created := okCount("CreateRole")
		crash := startOperator(t, noRetries)
		sa := createServiceAccount(t, ns, "after-create", s3ReadOnly, sqsReadOnly)
		require.Eventually(t, func() bool { return okCount("CreateRole") > created }, timeout, poll)
		crash()
		bed.Emulator.SetIAMEventualConsistency(0)
		assert.Empty(t, attachedPolicies(t, roleName(sa)))
		assert.Empty(t, get(t, sa).Annotations[core.RoleARNAnnotation])

		restartAndConverge(t, ns, sa, created, s3ReadOnly, sqsReadOnly)
	})

	t.Run("after some attaches", func(t *testing.T) {
		// One AttachRolePolicy goes through, the next is throttled for good.
		require.NoError(t, bed.Emulator.SetRateLimit(awsemu.ServiceIAM, []string{"AttachRolePolicy"}, 0.001, 1))
		t.Cleanup(bed.Emulator.ClearRateLimits)
		created := okCount("CreateRole")
		throttled := bed.Emulator.CallCount(awsemu.ServiceIAM, "AttachRolePolicy", "Throttling")
		crash := startOperator(t, noRetries)
		sa := createServiceAccount(t, ns, "after-attach", s3ReadOnly, sqsReadOnly)
		require.Eventually(t, func() bool {
			return bed.Emulator.CallCount(awsemu.ServiceIAM, "AttachRolePolicy", "Throttling") > throttled
		}, timeout, poll)
		crash()
		bed.Emulator.ClearRateLimits()
		assert.Len(t, attachedPolicies(t, roleName(sa)), 1)

		restartAndConverge(t, ns, sa, created, s3ReadOnly, sqsReadOnly)
	})

	t.Run("before the annotation", func(t *testing.T) {
		created := okCount("CreateRole")
		crash := startOperator(t, nil)
		sa := createServiceAccount(t, ns, "before-annotation", s3ReadOnly)
		waitForRole(t, sa, s3ReadOnly)
		crash()
		update(t, sa, func(sa *corev1.ServiceAccount) { delete(sa.Annotations, core.RoleARNAnnotation) })
		calls := markCalls()

		restartAndConverge(t, ns, sa, created, s3ReadOnly)
		assert.Empty(t, iamWrites(operatorCallsSince(calls)), "the role was complete: only the annotation was missing")
	})
}

// restartAndConverge starts a healthy operator and waits for the ServiceAccount's role to be
// complete, created exactly once since createdBefore.
func restartAndConverge(t *testing.T, ns string, sa *corev1.ServiceAccount, createdBefore int, policies ...string) {
	t.Helper()
	runOperator(t, ns, nil)
	waitForRole(t, sa, policies...)
	assert.Equal(t, createdBefore+1, okCount("CreateRole"), "exactly one role was created")
}

func TestInSyncResyncOnlyReads(t *testing.T) {
	ns := newNamespace(t)
	runOperator(t, ns, func(cfg *operator.Config) { cfg.IAMResyncPeriod = 300 * time.Millisecond })
	sa := createServiceAccount(t, ns, "steady", s3ReadOnly)
	waitForRole(t, sa, s3ReadOnly)
	calls := markCalls()

	require.Eventually(t, func() bool { return operatorCallsSince(calls)["iam:GetRole"] >= 3 }, timeout, poll, "three resyncs")

	for action := range operatorCallsSince(calls) {
		assert.Contains(t, []string{"iam:GetRole", "iam:ListAttachedRolePolicies"}, action,
			"an in-sync role costs reads only, and discovery is not repeated")
	}
}

func TestIAMEventualConsistencyIsWaitedOutQuietly(t *testing.T) {
	ns := newNamespace(t)
	bed.Emulator.SetIAMEventualConsistency(2 * time.Second)
	t.Cleanup(func() { bed.Emulator.SetIAMEventualConsistency(0) })
	runOperator(t, ns, nil)
	calls, created := markCalls(), okCount("CreateRole")

	sa := createServiceAccount(t, ns, "eventual", s3ReadOnly)
	waitForRole(t, sa, s3ReadOnly)

	assert.Equal(t, created+1, okCount("CreateRole"))
	assert.LessOrEqual(t, operatorCallsSince(calls)["iam:CreateRole"], 3, "no retry storm")
	assert.Less(t, operatorCallsSince(calls)["iam:GetRole"], 10)
	assert.Empty(t, eventNotes(t, sa, corev1.EventTypeWarning, core.ReasonIAMError), "propagation is not a failure")
}

// TestDriftIsRepairedAtResync changes the role behind the operator's back: a trust policy that
// only looks different is left alone; a different one, or an extra policy, is put right.
func TestDriftIsRepairedAtResync(t *testing.T) {
	ns := newNamespace(t)
	runOperator(t, ns, func(cfg *operator.Config) { cfg.IAMResyncPeriod = 300 * time.Millisecond })
	sa := createServiceAccount(t, ns, "drifting", s3ReadOnly)
	role := waitForRole(t, sa, s3ReadOnly)
	name := aws.String(roleName(sa))
	subject := "system:serviceaccount:" + ns + ":drifting"

	t.Run("the same trust policy written differently", func(t *testing.T) {
		_, err := iamClient(t).UpdateAssumeRolePolicy(context.Background(), &iam.UpdateAssumeRolePolicyInput{
			RoleName: name, PolicyDocument: aws.String(reformatted(t, role)),
		})
		require.NoError(t, err)
		calls := markCalls()
		require.Eventually(t, func() bool { return operatorCallsSince(calls)["iam:GetRole"] >= 2 }, timeout, poll, "two resyncs")
		assert.Empty(t, iamWrites(operatorCallsSince(calls)))
	})

	t.Run("a trust policy for someone else", func(t *testing.T) {
		other := strings.ReplaceAll(reformatted(t, role), subject, "system:serviceaccount:"+ns+":intruder")
		_, err := iamClient(t).UpdateAssumeRolePolicy(context.Background(), &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(other)})
		require.NoError(t, err)
		waitForEvent(t, sa, corev1.EventTypeNormal, core.ReasonTrustPolicyUpdated)
		assertTrustPolicy(t, getRole(t, roleName(sa)), subject)
	})

	t.Run("a policy attached by hand", func(t *testing.T) {
		_, err := iamClient(t).AttachRolePolicy(context.Background(), &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: aws.String(adminAccess)})
		require.NoError(t, err)
		assert.Contains(t, waitForEvent(t, sa, corev1.EventTypeNormal, core.ReasonPoliciesDetached), adminAccess)
		waitForRole(t, sa, s3ReadOnly)
	})
}

// reformatted is the role's trust policy with other whitespace and key order: the same policy.
func reformatted(t *testing.T, role *iamtypes.Role) string {
	t.Helper()
	document, err := url.QueryUnescape(aws.ToString(role.AssumeRolePolicyDocument))
	require.NoError(t, err)
	var policy map[string]any
	require.NoError(t, json.Unmarshal([]byte(document), &policy))
	indented, err := json.MarshalIndent(map[string]any{"Statement": policy["Statement"], "Version": policy["Version"]}, "", "    ")
	require.NoError(t, err)
	return string(indented)
}
