package v1alpha1_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

var k8s client.Client

func TestMain(m *testing.M) {
	cp, err := testbed.StartControlPlane()
	if err != nil {
		panic(err)
	}
	scheme := runtime.NewScheme()
	if err := ssmv1alpha1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if k8s, err = client.New(cp.Config, client.Options{Scheme: scheme}); err != nil {
		panic(err)
	}
	code := m.Run()
	if err := cp.Stop(); err != nil {
		panic(err)
	}
	os.Exit(code)
}

// The real apiserver enforces the CRD's OpenAPI and CEL validation; these cases are what a user
// can type into spec.ssmKeys.
func TestParameterNameValidation(t *testing.T) {
	cases := []struct {
		name    string
		key     string
		wantErr string
	}{
		{name: "seed hierarchical name", key: "/dev-qa/airflow/FERNET_KEY"},
		{name: "version selector", key: "/app/KEY:3"},
		{name: "label selector", key: "/app/KEY:prod"},
		{name: "flat name", key: "FERNET_KEY"},
		{name: "aws public parameter", key: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"},
		{name: "longest allowed name", key: "/" + strings.Repeat("a", 1010)},
		{name: "empty", key: "", wantErr: "should be at least 1 chars long"},
		{name: "space", key: "/app/MY KEY", wantErr: "must be an SSM parameter name"},
		{name: "disallowed character", key: "/app/KEY$", wantErr: "must be an SSM parameter name"},
		{name: "hierarchy without leading slash", key: "app/KEY", wantErr: "must be an SSM parameter name"},
		{name: "empty level", key: "/app//KEY", wantErr: "must be an SSM parameter name"},
		{name: "empty selector", key: "/app/KEY:", wantErr: "must be an SSM parameter name"},
		{name: "name too long", key: "/" + strings.Repeat("a", 1011), wantErr: "at most 1011 characters"},
		{name: "name too long with selector", key: "/" + strings.Repeat("a", 1011) + ":1", wantErr: "at most 1011 characters"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &ssmv1alpha1.SsmConfig{
				ObjectMeta: metav1.ObjectMeta{Name: "names-" + strings.Repeat("x", i%3) + string(rune('a'+i)), Namespace: "default"},
				Spec:       ssmv1alpha1.SsmConfigSpec{SsmKeys: []ssmv1alpha1.ParameterName{ssmv1alpha1.ParameterName(tc.key)}},
			}
			err := k8s.Create(context.Background(), obj, client.DryRunAll)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestSpecValidation(t *testing.T) {
	zero := metav1.Duration{}
	cases := []struct {
		name    string
		spec    ssmv1alpha1.SsmConfigSpec
		wantErr string
	}{
		{name: "paths only", spec: ssmv1alpha1.SsmConfigSpec{SsmPaths: []ssmv1alpha1.ParameterPath{{Path: "/dev-qa/airflow", Recursive: true}}}},
		{name: "refresh only on change", spec: ssmv1alpha1.SsmConfigSpec{SsmKeys: []ssmv1alpha1.ParameterName{"/a/B"}, RefreshInterval: &zero}},
		{name: "key mapping", spec: ssmv1alpha1.SsmConfigSpec{
			SsmKeys:     []ssmv1alpha1.ParameterName{"/a/B", "/c/B"},
			KeyMappings: []ssmv1alpha1.KeyMapping{{Parameter: "/c/B", SecretKey: "C_B"}},
		}},
		{name: "nothing to read", spec: ssmv1alpha1.SsmConfigSpec{}, wantErr: "at least one of ssmKeys or ssmPaths is required"},
		{name: "path without slash", spec: ssmv1alpha1.SsmConfigSpec{SsmPaths: []ssmv1alpha1.ParameterPath{{Path: "dev"}}}, wantErr: "must be an SSM path"},
		{name: "invalid secret key", spec: ssmv1alpha1.SsmConfigSpec{
			SsmKeys:     []ssmv1alpha1.ParameterName{"/a/B"},
			KeyMappings: []ssmv1alpha1.KeyMapping{{Parameter: "/a/B", SecretKey: "not valid"}},
		}, wantErr: "secretKey"},
		{name: "invalid secret name", spec: ssmv1alpha1.SsmConfigSpec{SsmKeys: []ssmv1alpha1.ParameterName{"/a/B"}, SecretName: "Not_A_Name"}, wantErr: "secretName"},
		{name: "duplicate key", spec: ssmv1alpha1.SsmConfigSpec{SsmKeys: []ssmv1alpha1.ParameterName{"/a/B", "/a/B"}}, wantErr: "Duplicate value"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &ssmv1alpha1.SsmConfig{
				ObjectMeta: metav1.ObjectMeta{Name: "spec-" + string(rune('a'+i)), Namespace: "default"},
				Spec:       tc.spec,
			}
			err := k8s.Create(context.Background(), obj, client.DryRunAll)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestRefreshIntervalDefaultsToOneHour(t *testing.T) {
	obj := &ssmv1alpha1.SsmConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "defaults", Namespace: "default"},
		Spec:       ssmv1alpha1.SsmConfigSpec{SsmKeys: []ssmv1alpha1.ParameterName{"/dev-qa/airflow/FERNET_KEY"}},
	}
	require.NoError(t, k8s.Create(context.Background(), obj, client.DryRunAll))
	require.NotNil(t, obj.Spec.RefreshInterval)
	assert.Equal(t, "1h0m0s", obj.Spec.RefreshInterval.Duration.String())
}
