package ssm

import (
	"context"
	"errors"
	"testing"
	"time"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	"github.com/605-tv/k8s-aws-operator/internal/steps"
)

func TestRecordDue(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		rec  syncRecord
		want bool
	}{
		{name: "spec changed", rec: syncRecord{generation: 1, nextRefresh: now.Add(time.Hour)}, want: true},
		{name: "refresh not yet due", rec: syncRecord{generation: 2, nextRefresh: now.Add(time.Second)}, want: false},
		{name: "refresh due", rec: syncRecord{generation: 2, nextRefresh: now}, want: true},
		{name: "refresh disabled", rec: syncRecord{generation: 2}, want: false},
		{name: "SSM changed a value", rec: syncRecord{generation: 2, nextRefresh: now.Add(time.Hour), stale: true}, want: true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.rec.due(2, now), tc.name)
	}
}

func TestMarkStaleFindsTheSsmConfigsReadFromAKey(t *testing.T) {
	store := newRecordStore()
	a, b, c := types.NamespacedName{Namespace: "x", Name: "a"}, types.NamespacedName{Namespace: "x", Name: "b"}, types.NamespacedName{Namespace: "y", Name: "c"}
	store.put(a, syncRecord{values: fetchedValues{byName: params("/k/SHARED", "/k/A")}})
	store.put(b, syncRecord{values: fetchedValues{byName: params("/k/B"), notFound: []string{"/k/SHARED"}}})
	store.put(c, syncRecord{values: fetchedValues{byName: params("/k/C")}})

	assert.ElementsMatch(t, []types.NamespacedName{a, b}, store.markStale("/k/SHARED"))
	for name, want := range map[types.NamespacedName]bool{a: true, b: true, c: false} {
		rec, _ := store.get(name)
		assert.Equal(t, want, rec.stale, name.String())
	}
}

func TestRefreshJitterStaysWithinTenPercent(t *testing.T) {
	for range 1000 {
		d := RefreshJitter(time.Hour)
		require.GreaterOrEqual(t, d, 54*time.Minute)
		require.LessOrEqual(t, d, 66*time.Minute)
	}
}

func TestDiffData(t *testing.T) {
	current := map[string][]byte{"SAME": []byte("1"), "CHANGED": []byte("old"), "GONE": []byte("x")}
	desired := map[string][]byte{"SAME": []byte("1"), "CHANGED": []byte("new"), "NEW": []byte("y")}
	c := diffData(current, desired)
	assert.Equal(t, []string{"NEW"}, c.added)
	assert.Equal(t, []string{"CHANGED"}, c.updated)
	assert.Equal(t, []string{"GONE"}, c.removed)
	assert.Equal(t, "added NEW; updated CHANGED; removed GONE", c.String())
	assert.False(t, diffData(desired, desired).any())
}

func TestAWSErrorReasons(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{err: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}, want: ReasonThrottled},
		{err: &smithy.GenericAPIError{Code: "AccessDeniedException"}, want: ReasonAccessDenied},
		{err: &ssmtypes.InternalServerError{}, want: ReasonAWSError},
		{err: context.DeadlineExceeded, want: ReasonAWSError},
	}
	for _, tc := range cases {
		got := awsError(tc.err)
		assert.Equal(t, tc.want, got.Reason, tc.err.Error())
		assert.True(t, got.Retry)
		assert.ErrorIs(t, got, tc.err)
	}
}

func TestReadyCondition(t *testing.T) {
	obj := &ssmv1alpha1.SsmConfig{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	synced := &syncRun{obj: obj, secretName: "s", data: map[string][]byte{"A": nil, "B": nil}}
	missing := &syncRun{obj: obj, secretName: "s", data: map[string][]byte{"A": nil},
		record: syncRecord{values: fetchedValues{notFound: []string{"/x/B"}}}}
	cases := []struct {
		name       string
		run        *syncRun
		err        error
		wantStatus metav1.ConditionStatus
		wantReason string
		wantMsg    string
	}{
		{name: "synced", run: synced, wantStatus: metav1.ConditionTrue, wantReason: ReasonSynced, wantMsg: "Secret s holds 2 key(s)"},
		{name: "missing", run: missing, wantStatus: metav1.ConditionFalse, wantReason: ReasonParameterNotFound,
			wantMsg: "1 parameter(s) not found in SSM: /x/B; Secret s holds the other 1 key(s)"},
		{name: "conflict", run: synced, err: steps.Refusal(ReasonSecretConflict, "taken"), wantStatus: metav1.ConditionFalse,
			wantReason: ReasonSecretConflict, wantMsg: "taken"},
		{name: "aws", run: synced, err: awsError(errors.New("boom")), wantStatus: metav1.ConditionFalse,
			wantReason: ReasonAWSError, wantMsg: "reading from SSM: boom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cond := readyCondition(tc.run, tc.err)
			assert.Equal(t, tc.wantStatus, cond.Status)
			assert.Equal(t, tc.wantReason, cond.Reason)
			assert.Equal(t, tc.wantMsg, cond.Message)
			assert.Equal(t, int64(3), cond.ObservedGeneration)
		})
	}
}

func TestClaimSecret(t *testing.T) {
	owner := &ssmv1alpha1.SsmConfig{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns", UID: "uid-1"}}
	ours := desiredSecret(owner, "app", nil)
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns"}}
	otherOwner := desiredSecret(&ssmv1alpha1.SsmConfig{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "ns", UID: "uid-2"}}, "app", nil)
	cases := []struct {
		name       string
		existing   []client.Object
		wantSecret bool
		wantReason string
	}{
		{name: "absent"},
		{name: "ours", existing: []client.Object{ours}, wantSecret: true},
		{name: "someone else's", existing: []client.Object{foreign}, wantReason: ReasonSecretConflict},
		{name: "another SsmConfig's", existing: []client.Object{otherOwner}, wantReason: ReasonSecretConflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k8s := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(tc.existing...).Build()
			r := &Reconciler{Client: k8s, APIReader: k8s}
			run := &syncRun{obj: owner, key: types.NamespacedName{Namespace: "ns", Name: "app"}, secretName: "app"}
			err := r.claimSecret(context.Background(), run)
			if tc.wantReason != "" {
				var syncErr *steps.Error
				require.ErrorAs(t, err, &syncErr)
				assert.Equal(t, tc.wantReason, syncErr.Reason)
				assert.Nil(t, run.secret)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantSecret, run.secret != nil)
		})
	}
}

func TestWriteSecretWritesOnlyChanges(t *testing.T) {
	owner := &ssmv1alpha1.SsmConfig{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns", UID: "uid-1"}}
	k8s := fake.NewClientBuilder().WithScheme(testScheme(t)).Build()
	r := &Reconciler{Client: k8s, APIReader: k8s}
	write := func(data map[string][]byte) secretChanges {
		run := &syncRun{obj: owner, secretName: "app", data: data}
		require.NoError(t, r.claimSecret(context.Background(), run))
		require.NoError(t, r.writeSecret(context.Background(), run))
		return run.changes
	}
	assert.True(t, write(map[string][]byte{"A": []byte("1")}).created)
	assert.False(t, write(map[string][]byte{"A": []byte("1")}).any(), "same data: no write")
	assert.Equal(t, []string{"A"}, write(map[string][]byte{"A": []byte("2")}).updated)

	secret := &corev1.Secret{}
	require.NoError(t, k8s.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "app"}, secret))
	assert.Equal(t, corev1.SecretTypeOpaque, secret.Type)
	assert.Equal(t, ManagedByValue, secret.Labels[ManagedByLabel])
	assert.True(t, metav1.IsControlledBy(secret, owner))
	assert.Equal(t, "2", string(secret.Data["A"]))
}

func testScheme(t *testing.T) *runtime.Scheme {
	scheme := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(scheme))
	require.NoError(t, ssmv1alpha1.AddToScheme(scheme))
	return scheme
}
