package core

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
)

func TestSelection(t *testing.T) {
	tests := []struct {
		name      string
		sa        *corev1.ServiceAccount
		wantsRole bool
		relevant  bool
	}{
		{name: "label and annotation", sa: serviceAccount(), wantsRole: true, relevant: true},
		{name: "empty annotation", sa: serviceAccount(withAnnotation(PoliciesAnnotation, "")), wantsRole: true, relevant: true},
		{name: "label value is case-sensitive", sa: serviceAccount(withLabel(SelectorLabel, "IAM"))},
		{name: "no annotation", sa: serviceAccount(withoutAnnotation(PoliciesAnnotation))},
		{name: "unselected with our finalizer", sa: serviceAccount(withLabel(SelectorLabel, "x"), withFinalizers(Finalizer)), relevant: true},
		{name: "being deleted", sa: serviceAccount(withFinalizers(Finalizer), deleting), relevant: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantsRole, wantsRole(tt.sa))
			assert.Equal(t, tt.relevant, relevant(tt.sa))
		})
	}
}

func TestNamesRole(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{value: "arn:aws:iam::123456789012:role/k8s-aws-operator/test-ns-sa-1234abcd", want: true},
		{value: "arn:aws:iam::123456789012:role/test-ns-sa-1234abcd", want: true},
		{value: "arn:aws:iam::123456789012:role/x-test-ns-sa-1234abcd"},
		{value: "arn:aws:iam::123456789012:user/test-ns-sa-1234abcd"},
		{value: "test-ns-sa-1234abcd"},
		{value: ""},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			assert.Equal(t, tt.want, namesRole(tt.value, "test-ns-sa-1234abcd"))
		})
	}
}
