package ssm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	ssmcontroller "github.com/605-tv/k8s-aws-operator/controllers/ssm"
	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
	"github.com/605-tv/k8s-aws-operator/internal/operator"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

// The seed's example, end to end: SecureString and String parameters become Secret keys named
// after their basenames, in one GetParameters call, with status, ownership and an Event.
func TestSeedExample(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	putParameter(t, "/dev-qa/airflow/AIRFLOW__SENTRY__CLIENT_SECRET", "sentry-s3cr3t", "SecureString")
	putParameter(t, "/dev-qa/airflow/FERNET_KEY", "fernet-s3cr3t", "SecureString")
	bed.Emulator.ResetCounters()

	obj := newSsmConfig(ns, "airflow", ssmv1alpha1.SsmConfigSpec{
		SsmKeys: names("/dev-qa/airflow/AIRFLOW__SENTRY__CLIENT_SECRET", "/dev-qa/airflow/FERNET_KEY"),
	})
	create(t, obj)

	secret := waitForData(t, ns, "airflow", map[string]string{
		"AIRFLOW__SENTRY__CLIENT_SECRET": "sentry-s3cr3t",
		"FERNET_KEY":                     "fernet-s3cr3t",
	})
	assert.Equal(t, corev1.SecretTypeOpaque, secret.Type)
	assert.Equal(t, ssmcontroller.ManagedByValue, secret.Labels[ssmcontroller.ManagedByLabel])
	current := waitForReady(t, obj, ssmcontroller.ReasonSynced)
	assert.True(t, metav1.IsControlledBy(secret, current), "the CR owns the Secret, so Kubernetes deletes it with the CR")
	assert.Equal(t, "airflow", current.Status.SecretName)
	assert.Equal(t, int32(2), current.Status.SyncedKeys)
	assert.NotNil(t, current.Status.LastSyncTime)
	assert.Equal(t, 1, ssmCalls("GetParameters"), "two names cost one batched call")
	waitForEvent(t, obj, "SecretCreated")
}

// Adding and removing names adds and removes keys.
func TestUpdateAddsAndRemovesKeys(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	putParameter(t, "/upd/A", "a", "String")
	putParameter(t, "/upd/B", "b", "String")
	obj := newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{SsmKeys: names("/upd/A")})
	create(t, obj)
	waitForData(t, ns, "app", map[string]string{"A": "a"})

	update(t, obj, func(o *ssmv1alpha1.SsmConfig) { o.Spec.SsmKeys = names("/upd/B") })
	waitForData(t, ns, "app", map[string]string{"B": "b"})
	waitForReady(t, obj, ssmcontroller.ReasonSynced)
}

// A value changed in SSM reaches the Secret at the next refresh; a refresh that finds nothing new
// writes nothing and emits nothing.
func TestRefreshPicksUpChangesAndNoOpIsFree(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	putParameter(t, "/refresh/TOKEN", "v1", "SecureString")
	obj := newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{SsmKeys: names("/refresh/TOKEN"), RefreshInterval: every(time.Second)})
	create(t, obj)
	written := waitForData(t, ns, "app", map[string]string{"TOKEN": "v1"})
	waitForEvent(t, obj, "SecretCreated")
	eventsBefore := len(events(t, obj))

	settled := waitForReady(t, obj, ssmcontroller.ReasonSynced)
	bed.Emulator.ResetCounters()
	require.Eventually(t, func() bool { return ssmCalls("GetParameters") >= 3 }, waitFor, tick, "three refreshes")
	unchanged, err := getSecret(ns, "app")
	require.NoError(t, err)
	assert.Equal(t, written.ResourceVersion, unchanged.ResourceVersion, "no-op refreshes do not write the Secret")
	after := &ssmv1alpha1.SsmConfig{}
	require.NoError(t, bed.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), after))
	assert.Equal(t, settled.ResourceVersion, after.ResourceVersion, "no-op refreshes do not write status")
	assert.Len(t, events(t, obj), eventsBefore, "no-op refreshes emit no Event")

	putParameter(t, "/refresh/TOKEN", "v2", "SecureString")
	waitForData(t, ns, "app", map[string]string{"TOKEN": "v2"})
	waitForEvent(t, obj, "SecretUpdated")
}

// An edited or deleted Secret is restored from the values already read, without calling AWS.
func TestDriftRepairWithoutAWSCalls(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	putParameter(t, "/drift/KEY", "good", "String")
	obj := newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{SsmKeys: names("/drift/KEY")})
	create(t, obj)
	secret := waitForData(t, ns, "app", map[string]string{"KEY": "good"})
	bed.Emulator.ResetCounters()

	secret.Data["KEY"] = []byte("tampered")
	secret.Data["EXTRA"] = []byte("x")
	require.NoError(t, bed.Client.Update(context.Background(), secret))
	waitForData(t, ns, "app", map[string]string{"KEY": "good"})
	waitForEvent(t, obj, "SecretRestored")

	require.NoError(t, bed.Client.Delete(context.Background(), secret))
	waitForData(t, ns, "app", map[string]string{"KEY": "good"})
	assert.Zero(t, ssmCalls("GetParameters"), "drift is repaired from memory")
}

// A Secret of the same name that the operator does not own is never adopted nor overwritten.
func TestPreexistingSecretIsNotAdopted(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	putParameter(t, "/conflict/KEY", "from-ssm", "String")
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
		StringData: map[string]string{"KEY": "user-owned"},
	})
	obj := newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{SsmKeys: names("/conflict/KEY")})
	create(t, obj)

	current := waitForReady(t, obj, ssmcontroller.ReasonSecretConflict)
	waitForEvent(t, obj, ssmcontroller.ReasonSecretConflict)
	secret, err := getSecret(ns, "app")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"KEY": "user-owned"}, secretStrings(secret))
	assert.Empty(t, secret.OwnerReferences)
	assert.Empty(t, current.Status.SecretName)

	// The user renames the target: the operator creates its own Secret and leaves theirs alone.
	update(t, obj, func(o *ssmv1alpha1.SsmConfig) { o.Spec.SecretName = "app-from-ssm" })
	waitForData(t, ns, "app-from-ssm", map[string]string{"KEY": "from-ssm"})
	waitForReady(t, obj, ssmcontroller.ReasonSynced)
	secret, err = getSecret(ns, "app")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"KEY": "user-owned"}, secretStrings(secret))
}

// A namespace's access policy is enforced before anything is read.
func TestPathPolicyDenial(t *testing.T) {
	bed.RunOperator(t, func(cfg *operator.Config) { cfg.SSMAllowedPaths = "/teams/{namespace}/" })
	ns := newNamespace(t, nil)
	putParameter(t, "/teams/"+ns+"/OWN", "mine", "String")
	putParameter(t, "/teams/other/SECRET", "not-mine", "String")
	bed.Emulator.ResetCounters()

	obj := newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{SsmKeys: names("/teams/"+ns+"/OWN", "/teams/other/SECRET")})
	create(t, obj)
	current := waitForReady(t, obj, ssmcontroller.ReasonPathNotAllowed)
	assert.Equal(t, []string{"/teams/other/SECRET"}, current.Status.DeniedParameters)
	waitForEvent(t, obj, ssmcontroller.ReasonPathNotAllowed)
	requireAbsent(t, ns, "app")
	assert.Zero(t, ssmCalls("GetParameters"), "nothing is fetched")

	// A cluster admin widens the namespace's policy: the SsmConfig syncs without being touched.
	nsObj := &corev1.Namespace{}
	require.NoError(t, bed.Client.Get(context.Background(), client.ObjectKey{Name: ns}, nsObj))
	nsObj.Annotations = map[string]string{ssmcontroller.AllowedPathsAnnotation: "/teams/" + ns + "/, /teams/other/SECRET"}
	require.NoError(t, bed.Client.Update(context.Background(), nsObj))
	waitForData(t, ns, "app", map[string]string{"OWN": "mine", "SECRET": "not-mine"})
}

// A missing name is reported while the others sync; a value that existed is kept until the user
// removes its name from the spec.
func TestMissingNamesKeepOthersAndOldValues(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	putParameter(t, "/missing/HERE", "here", "String")
	putParameter(t, "/missing/LATER_DELETED", "kept", "String")
	obj := newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{
		SsmKeys:         names("/missing/HERE", "/missing/LATER_DELETED", "/missing/NEVER"),
		RefreshInterval: every(time.Second),
	})
	create(t, obj)
	waitForData(t, ns, "app", map[string]string{"HERE": "here", "LATER_DELETED": "kept"})
	current := waitForReady(t, obj, ssmcontroller.ReasonParameterNotFound)
	assert.Equal(t, []string{"/missing/NEVER"}, current.Status.MissingParameters)
	waitForEvent(t, obj, ssmcontroller.ReasonParameterNotFound)

	_, err := ssmClient(t).DeleteParameter(context.Background(), &ssm.DeleteParameterInput{Name: aws.String("/missing/LATER_DELETED")})
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		latest := &ssmv1alpha1.SsmConfig{}
		require.NoError(c, bed.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), latest))
		assert.Equal(c, []string{"/missing/LATER_DELETED", "/missing/NEVER"}, latest.Status.MissingParameters)
	}, waitFor, tick)
	waitForData(t, ns, "app", map[string]string{"HERE": "here", "LATER_DELETED": "kept"})

	update(t, obj, func(o *ssmv1alpha1.SsmConfig) { o.Spec.SsmKeys = names("/missing/HERE") })
	waitForData(t, ns, "app", map[string]string{"HERE": "here"})
	waitForReady(t, obj, ssmcontroller.ReasonSynced)
}

// Version and label selectors read that version; keys are still named after the basename.
func TestVersionAndLabelSelectors(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	for _, v := range []string{"one", "two", "three"} {
		putParameter(t, "/sel/DB_URL", v, "String")
	}
	putParameter(t, "/sel/API_KEY", "old", "SecureString")
	putParameter(t, "/sel/API_KEY", "new", "SecureString")
	_, err := ssmClient(t).LabelParameterVersion(context.Background(), &ssm.LabelParameterVersionInput{
		Name: aws.String("/sel/API_KEY"), ParameterVersion: aws.Int64(1), Labels: []string{"prod"},
	})
	require.NoError(t, err)

	obj := newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{SsmKeys: names("/sel/DB_URL:2", "/sel/API_KEY:prod")})
	create(t, obj)
	waitForData(t, ns, "app", map[string]string{"DB_URL": "two", "API_KEY": "old"})
	waitForReady(t, obj, ssmcontroller.ReasonSynced)
}

// ssmPaths include every parameter under a path, across GetParametersByPath pages.
func TestSSMPathsWithPaging(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	want := map[string]string{}
	for i := range 23 {
		name := fmt.Sprintf("P%02d", i)
		putParameter(t, fmt.Sprintf("/paths/app/level%d/%s", i%3, name), "v"+name, "String")
		want[name] = "v" + name
	}
	putParameter(t, "/paths/other/NOT_INCLUDED", "x", "String")
	bed.Emulator.ResetCounters()

	obj := newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{SsmPaths: []ssmv1alpha1.ParameterPath{{Path: "/paths/app", Recursive: true}}})
	create(t, obj)
	waitForData(t, ns, "app", want)
	assert.Equal(t, 3, ssmCalls("GetParametersByPath"), "23 parameters in pages of 10")
}

// Two parameters with one basename are refused until a key mapping separates them.
func TestKeyCollisions(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	putParameter(t, "/coll/a/PASSWORD", "a", "String")
	putParameter(t, "/coll/b/PASSWORD", "b", "String")
	obj := newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{SsmKeys: names("/coll/a/PASSWORD", "/coll/b/PASSWORD")})
	create(t, obj)
	current := waitForReady(t, obj, ssmcontroller.ReasonInvalidSpec)
	assert.Contains(t, readyOf(current).Message, `all map to Secret key "PASSWORD"`)
	requireAbsent(t, ns, "app")

	update(t, obj, func(o *ssmv1alpha1.SsmConfig) {
		o.Spec.KeyMappings = []ssmv1alpha1.KeyMapping{{Parameter: "/coll/b/PASSWORD", SecretKey: "B_PASSWORD"}}
	})
	waitForData(t, ns, "app", map[string]string{"PASSWORD": "a", "B_PASSWORD": "b"})
}

// One reconcile of N names costs ⌈N/10⌉ GetParameters calls.
func TestBatchedCalls(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	var keys []string
	want := map[string]string{}
	for i := range 25 {
		name := fmt.Sprintf("/batch/K%02d", i)
		putParameter(t, name, fmt.Sprint(i), "String")
		keys = append(keys, name)
		want[fmt.Sprintf("K%02d", i)] = fmt.Sprint(i)
	}
	bed.Emulator.ResetCounters()
	create(t, newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{SsmKeys: names(keys...)}))
	waitForData(t, ns, "app", want)
	assert.Equal(t, 3, ssmCalls("GetParameters"))
}

// Names another SsmConfig read within the refresh interval are not read again: only new names cost
// a call.
func TestSharedNamesAreReadOnce(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	var shared, own []string
	want := map[string]string{}
	for i := range 15 {
		name := fmt.Sprintf("/shared/K%02d", i)
		putParameter(t, name, fmt.Sprint(i), "String")
		want[fmt.Sprintf("K%02d", i)] = fmt.Sprint(i)
		if i < 10 {
			shared = append(shared, name)
		} else {
			own = append(own, name)
		}
	}
	create(t, newSsmConfig(ns, "first", ssmv1alpha1.SsmConfigSpec{SsmKeys: names(shared...)}))
	waitForData(t, ns, "first", map[string]string{"K00": "0", "K01": "1", "K02": "2", "K03": "3", "K04": "4",
		"K05": "5", "K06": "6", "K07": "7", "K08": "8", "K09": "9"})
	bed.Emulator.ResetCounters()

	create(t, newSsmConfig(ns, "second", ssmv1alpha1.SsmConfigSpec{SsmKeys: names(append(shared, own...)...)}))
	waitForData(t, ns, "second", want)
	assert.Equal(t, 1, ssmCalls("GetParameters"), "one call, for the five names the first SsmConfig did not read")
}

// Under throttling, 5xx, resets and timeouts the Secret never loses a key or a value, and it
// converges once the faults stop.
func TestFaultsNeverLoseData(t *testing.T) {
	bed.RunOperator(t, func(cfg *operator.Config) {
		cfg.AWS.MaxAttempts = 2
		cfg.AWS.MaxBackoff = 50 * time.Millisecond
	})
	ns := newNamespace(t, nil)
	putParameter(t, "/faults/A", "a1", "SecureString")
	putParameter(t, "/faults/B", "b1", "String")
	obj := newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{SsmKeys: names("/faults/A", "/faults/B"), RefreshInterval: every(time.Second)})
	create(t, obj)
	good := map[string]string{"A": "a1", "B": "b1"}
	waitForData(t, ns, "app", good)

	t.Cleanup(func() { bed.Emulator.ClearFaults(); bed.Emulator.ClearRateLimits() })
	for _, fault := range []struct {
		name   string
		inject func() error
		reason string
	}{
		{"throttling", func() error {
			if err := bed.Emulator.SetRateLimit("ssm", nil, 0.001, 1); err != nil {
				return err
			}
			// Spend the bucket's one token, so that every later call is throttled.
			_, _ = ssmClient(t).GetParameters(context.Background(), &ssm.GetParametersInput{Names: []string{"/faults/B"}})
			return nil
		}, ssmcontroller.ReasonThrottled},
		{"5xx", func() error { return bed.Emulator.SetFaults("ssm", awsemu.Faults{InternalErrorPercent: 100}) }, ssmcontroller.ReasonAWSError},
		{"connection reset", func() error { return bed.Emulator.SetFaults("ssm", awsemu.Faults{ConnectionResetPercent: 100}) }, ssmcontroller.ReasonAWSError},
	} {
		t.Run(fault.name, func(t *testing.T) {
			require.NoError(t, fault.inject())
			putParameter(t, "/faults/A", "a2-"+fault.name, "SecureString")
			waitForReady(t, obj, fault.reason)
			secret, err := getSecret(ns, "app")
			require.NoError(t, err)
			assert.Equal(t, good, secretStrings(secret), "the last good values stay")

			bed.Emulator.ClearFaults()
			bed.Emulator.ClearRateLimits()
			good = map[string]string{"A": "a2-" + fault.name, "B": "b1"}
			waitForData(t, ns, "app", good)
			waitForReady(t, obj, ssmcontroller.ReasonSynced)
		})
	}
}

// No parameter value ever appears in logs, Events or status.
func TestValuesNeverLeak(t *testing.T) {
	bed.RunOperator(t, nil)
	ns := newNamespace(t, nil)
	values := []string{"leak-check-9f3a1c", "leak-check-77b2e0"}
	putParameter(t, "/leak/ONE", values[0], "SecureString")
	putParameter(t, "/leak/TWO", values[1], "String")
	obj := newSsmConfig(ns, "app", ssmv1alpha1.SsmConfigSpec{SsmKeys: names("/leak/ONE", "/leak/TWO", "/leak/MISSING")})
	create(t, obj)
	waitForData(t, ns, "app", map[string]string{"ONE": values[0], "TWO": values[1]})
	current := waitForReady(t, obj, ssmcontroller.ReasonParameterNotFound)
	waitForEvent(t, obj, ssmcontroller.ReasonParameterNotFound)

	var everything strings.Builder
	everything.WriteString(testbed.Logs.String())
	for _, e := range events(t, obj) {
		everything.WriteString(e.Note + e.Reason)
	}
	fmt.Fprintf(&everything, "%+v", current.Status)
	assert.Contains(t, everything.String(), "/leak/MISSING", "the haystack holds what was reported")
	assert.Empty(t, containsAny(everything.String(), values), "a parameter value leaked")
}

func readyOf(obj *ssmv1alpha1.SsmConfig) metav1.Condition {
	for _, c := range obj.Status.Conditions {
		if c.Type == "Ready" {
			return c
		}
	}
	return metav1.Condition{}
}
