package ssm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	"github.com/605-tv/k8s-aws-operator/internal/ssmfetch"
)

func TestSecretKeyFor(t *testing.T) {
	mappings := map[string]string{"/app/KEY:3": "KEY_V3"}
	cases := map[string]string{
		"/dev-qa/airflow/FERNET_KEY": "FERNET_KEY",
		"/app/KEY:prod":              "KEY",
		"/app/KEY:3":                 "KEY_V3",
		"FLAT":                       "FLAT",
		"FLAT:2":                     "FLAT",
	}
	for requested, want := range cases {
		assert.Equal(t, want, secretKeyFor(requested, mappings), requested)
	}
}

func params(names ...string) map[string]ssmfetch.Parameter {
	m := map[string]ssmfetch.Parameter{}
	for _, n := range names {
		m[n] = ssmfetch.Parameter{Name: n, Value: "value-of-" + n}
	}
	return m
}

func keys(names ...string) []ssmv1alpha1.ParameterName {
	out := make([]ssmv1alpha1.ParameterName, len(names))
	for i, n := range names {
		out[i] = ssmv1alpha1.ParameterName(n)
	}
	return out
}

func TestSecretData(t *testing.T) {
	cases := []struct {
		name     string
		spec     ssmv1alpha1.SsmConfigSpec
		values   fetchedValues
		previous map[string][]byte
		want     map[string]string
		wantErr  string
	}{{
		name:   "seed",
		spec:   ssmv1alpha1.SsmConfigSpec{SsmKeys: keys("/dev-qa/airflow/AIRFLOW__SENTRY__CLIENT_SECRET", "/dev-qa/airflow/FERNET_KEY")},
		values: fetchedValues{byName: params("/dev-qa/airflow/AIRFLOW__SENTRY__CLIENT_SECRET", "/dev-qa/airflow/FERNET_KEY")},
		want: map[string]string{
			"AIRFLOW__SENTRY__CLIENT_SECRET": "value-of-/dev-qa/airflow/AIRFLOW__SENTRY__CLIENT_SECRET",
			"FERNET_KEY":                     "value-of-/dev-qa/airflow/FERNET_KEY",
		},
	}, {
		name:     "missing name keeps its previous value",
		spec:     ssmv1alpha1.SsmConfigSpec{SsmKeys: keys("/a/ONE", "/a/GONE")},
		values:   fetchedValues{byName: params("/a/ONE"), notFound: []string{"/a/GONE"}},
		previous: map[string][]byte{"GONE": []byte("old"), "REMOVED_FROM_SPEC": []byte("x")},
		want:     map[string]string{"ONE": "value-of-/a/ONE", "GONE": "old"},
	}, {
		name:   "missing name without previous value is left out",
		spec:   ssmv1alpha1.SsmConfigSpec{SsmKeys: keys("/a/ONE", "/a/GONE")},
		values: fetchedValues{byName: params("/a/ONE"), notFound: []string{"/a/GONE"}},
		want:   map[string]string{"ONE": "value-of-/a/ONE"},
	}, {
		name:    "basename collision is refused",
		spec:    ssmv1alpha1.SsmConfigSpec{SsmKeys: keys("/a/KEY", "/b/KEY")},
		values:  fetchedValues{byName: params("/a/KEY", "/b/KEY")},
		wantErr: `/a/KEY, /b/KEY all map to Secret key "KEY"`,
	}, {
		name: "mapping resolves a collision",
		spec: ssmv1alpha1.SsmConfigSpec{SsmKeys: keys("/a/KEY", "/b/KEY"),
			KeyMappings: []ssmv1alpha1.KeyMapping{{Parameter: "/b/KEY", SecretKey: "B_KEY"}}},
		values: fetchedValues{byName: params("/a/KEY", "/b/KEY")},
		want:   map[string]string{"KEY": "value-of-/a/KEY", "B_KEY": "value-of-/b/KEY"},
	}, {
		name: "path parameters join, listed names are not doubled",
		spec: ssmv1alpha1.SsmConfigSpec{SsmKeys: keys("/p/A")},
		values: fetchedValues{byName: params("/p/A"), fromPaths: []ssmfetch.Parameter{
			{Name: "/p/A", Value: "value-of-/p/A"}, {Name: "/p/sub/B", Value: "b"},
		}},
		want: map[string]string{"A": "value-of-/p/A", "B": "b"},
	}, {
		name: "collision between a path parameter and a listed name",
		spec: ssmv1alpha1.SsmConfigSpec{SsmKeys: keys("/x/B")},
		values: fetchedValues{byName: params("/x/B"), fromPaths: []ssmfetch.Parameter{
			{Name: "/p/B", Value: "b"},
		}},
		wantErr: `/p/B, /x/B all map to Secret key "B"`,
	}, {
		name:    "basename that is not a valid Secret key",
		spec:    ssmv1alpha1.SsmConfigSpec{SsmKeys: keys("/a/..")},
		values:  fetchedValues{byName: params("/a/..")},
		wantErr: `maps to invalid Secret key ".."`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := secretData(&tc.spec, tc.values, tc.previous)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				assert.Nil(t, data)
				return
			}
			require.NoError(t, err)
			got := map[string]string{}
			for k, v := range data {
				got[k] = string(v)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
