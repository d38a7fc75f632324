package ssm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
)

func TestAccessPolicy(t *testing.T) {
	spec := &ssmv1alpha1.SsmConfigSpec{
		SsmKeys:  keys("/apps/team-a/DB_PASSWORD:3", "/apps/team-b/DB_PASSWORD", "/shared/REGION", "/apps/team-ab/X"),
		SsmPaths: []ssmv1alpha1.ParameterPath{{Path: "/apps/team-a/feature"}, {Path: "/apps"}},
	}
	nsWith := func(annotation *string) *corev1.Namespace {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}
		if annotation != nil {
			ns.Annotations = map[string]string{AllowedPathsAnnotation: *annotation}
		}
		return ns
	}
	ptr := func(s string) *string { return &s }
	cases := []struct {
		name       string
		defaults   []string
		annotation *string
		want       []string
	}{
		{name: "no policy allows everything", want: nil},
		{name: "operator default with placeholder", defaults: []string{"/apps/{namespace}/"},
			want: []string{"/apps/team-b/DB_PASSWORD", "/shared/REGION", "/apps/team-ab/X", "/apps"}},
		{name: "namespace annotation overrides the default", defaults: []string{"/nothing/"}, annotation: ptr("/apps/{namespace}/, /shared/REGION"),
			want: []string{"/apps/team-b/DB_PASSWORD", "/apps/team-ab/X", "/apps"}},
		{name: "empty annotation denies everything", annotation: ptr(""),
			want: []string{"/apps/team-a/DB_PASSWORD:3", "/apps/team-b/DB_PASSWORD", "/shared/REGION", "/apps/team-ab/X", "/apps/team-a/feature", "/apps"}},
		{name: "prefix covers the whole tree", annotation: ptr("/"), want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := AccessPolicy{Default: tc.defaults}.deniedNames(nsWith(tc.annotation), spec)
			assert.Equal(t, tc.want, got)
		})
	}
}
