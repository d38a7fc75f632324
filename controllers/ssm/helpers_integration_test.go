package ssm_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

var bed *testbed.Bed

func TestMain(m *testing.M) { os.Exit(testbed.Main(m, &bed)) }

const (
	waitFor = 30 * time.Second
	tick    = 50 * time.Millisecond
)

var nsCounter atomic.Int32

// newNamespace creates a namespace of the test's own.
func newNamespace(t *testing.T, annotations map[string]string) string {
	t.Helper()
	name := fmt.Sprintf("ssm-%d", nsCounter.Add(1))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations}}
	require.NoError(t, bed.Client.Create(context.Background(), ns))
	return name
}

func newSsmConfig(ns, name string, spec ssmv1alpha1.SsmConfigSpec) *ssmv1alpha1.SsmConfig {
	return &ssmv1alpha1.SsmConfig{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
}

func names(list ...string) []ssmv1alpha1.ParameterName {
	out := make([]ssmv1alpha1.ParameterName, len(list))
	for i, n := range list {
		out[i] = ssmv1alpha1.ParameterName(n)
	}
	return out
}

func every(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func putParameter(t *testing.T, name, value, kind string) {
	t.Helper()
	require.NoError(t, bed.Emulator.PutParameter(name, value, kind))
}

// ssmClient is a real SDK client on the emulator, for what the emulator's Go API does not offer.
func ssmClient(t *testing.T) *ssm.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	require.NoError(t, err)
	return ssm.NewFromConfig(cfg)
}

// create creates obj and deletes it when the test ends, so that no SsmConfig of an earlier test
// keeps calling SSM during a later one.
func create(t *testing.T, obj client.Object) {
	t.Helper()
	require.NoError(t, bed.Client.Create(context.Background(), obj))
	t.Cleanup(func() { _ = bed.Client.Delete(context.Background(), obj) })
}

// update changes the SsmConfig's latest version, retrying when status writes interleave.
func update(t *testing.T, obj *ssmv1alpha1.SsmConfig, change func(*ssmv1alpha1.SsmConfig)) {
	t.Helper()
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest := &ssmv1alpha1.SsmConfig{}
		if err := bed.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), latest); err != nil {
			return err
		}
		change(latest)
		return bed.Client.Update(context.Background(), latest)
	}))
}

func getSecret(ns, name string) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := bed.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, secret)
	return secret, err
}

func secretStrings(s *corev1.Secret) map[string]string {
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out
}

// waitForData waits until the Secret holds exactly want.
func waitForData(t *testing.T, ns, name string, want map[string]string) *corev1.Secret {
	t.Helper()
	var secret *corev1.Secret
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		secret, err = getSecret(ns, name)
		require.NoError(c, err)
		assert.Equal(c, want, secretStrings(secret))
	}, waitFor, tick)
	return secret
}

// waitForReady waits until the SsmConfig's Ready condition for its current generation has reason.
func waitForReady(t *testing.T, obj *ssmv1alpha1.SsmConfig, reason string) *ssmv1alpha1.SsmConfig {
	t.Helper()
	current := &ssmv1alpha1.SsmConfig{}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.NoError(c, bed.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), current))
		cond := meta.FindStatusCondition(current.Status.Conditions, "Ready")
		require.NotNil(c, cond)
		assert.Equal(c, current.Generation, current.Status.ObservedGeneration)
		assert.Equal(c, reason, cond.Reason, cond.Message)
	}, waitFor, tick)
	return current
}

// events lists the Events about obj, oldest first.
func events(t *testing.T, obj client.Object) []eventsv1.Event {
	t.Helper()
	list := &eventsv1.EventList{}
	require.NoError(t, bed.Client.List(context.Background(), list, client.InNamespace(obj.GetNamespace())))
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == obj.GetName() && e.Regarding.Kind == "SsmConfig" {
			out = append(out, e)
		}
	}
	return out
}

func waitForEvent(t *testing.T, obj client.Object, reason string) eventsv1.Event {
	t.Helper()
	var found eventsv1.Event
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, e := range events(t, obj) {
			if e.Reason == reason {
				found = e
				return
			}
		}
		c.Errorf("no %s event yet", reason)
	}, waitFor, tick)
	return found
}

func ssmCalls(operation string) int {
	return bed.Emulator.CallCount("ssm", operation, "ok")
}

func requireAbsent(t *testing.T, ns, name string) {
	t.Helper()
	_, err := getSecret(ns, name)
	require.True(t, apierrors.IsNotFound(err), "Secret %s/%s should not exist: %v", ns, name, err)
}

func containsAny(haystack string, needles []string) string {
	for _, n := range needles {
		if strings.Contains(haystack, n) {
			return n
		}
	}
	return ""
}
