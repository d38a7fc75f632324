package core

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
)

func TestOwnWrite(t *testing.T) {
	r := &ServiceAccountReconciler{ClusterName: "prod"}
	ourARN := "arn:aws:iam::123456789012:role/k8s-aws-operator/" + irsa.RoleName("prod", "team", "app")
	base := func() *corev1.ServiceAccount {
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
			Name: "app", Namespace: "team",
			Labels:      map[string]string{SelectorLabel: SelectorValue},
			Annotations: map[string]string{PoliciesAnnotation: "arn:aws:iam::aws:policy/ReadOnlyAccess", "user": "kept"},
		}}
	}
	with := func(change func(*corev1.ServiceAccount)) *corev1.ServiceAccount {
		sa := base()
		change(sa)
		return sa
	}
	finalized := func(sa *corev1.ServiceAccount) { sa.Finalizers = append(sa.Finalizers, Finalizer) }
	annotated := func(value string) func(*corev1.ServiceAccount) {
		return func(sa *corev1.ServiceAccount) { sa.Annotations[RoleARNAnnotation] = value }
	}
	both := func(sa *corev1.ServiceAccount) { finalized(sa); annotated(ourARN)(sa) }
	cases := []struct {
		name     string
		old, new *corev1.ServiceAccount
		want     bool
	}{
		{name: "our finalizer added", old: base(), new: with(finalized), want: true},
		{name: "our annotation set", old: with(finalized), new: with(both), want: true},
		{name: "nothing changed (informer resync)", old: with(both), new: with(both), want: true},
		{name: "annotation removed by a user", old: with(both), new: with(finalized), want: false},
		{name: "annotation pointed elsewhere", old: with(both), new: with(func(sa *corev1.ServiceAccount) {
			finalized(sa)
			annotated("arn:aws:iam::123456789012:role/someone-elses")(sa)
		}), want: false},
		{name: "policies changed", old: with(both), new: with(func(sa *corev1.ServiceAccount) {
			both(sa)
			sa.Annotations[PoliciesAnnotation] = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
		}), want: false},
		{name: "label removed", old: with(both), new: with(func(sa *corev1.ServiceAccount) { both(sa); sa.Labels = nil }), want: false},
		{name: "finalizer removed", old: with(both), new: with(annotated(ourARN)), want: false},
		{name: "deletion requested", old: with(both), new: with(func(sa *corev1.ServiceAccount) {
			both(sa)
			sa.DeletionTimestamp = ptr.To(metav1.Now())
		}), want: false},
		{name: "another field changed", old: with(both), new: with(func(sa *corev1.ServiceAccount) {
			both(sa)
			sa.AutomountServiceAccountToken = ptr.To(false)
		}), want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, r.ownWrite(tc.old, tc.new))
		})
	}
}
