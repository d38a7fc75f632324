package ssm

import (
	"bytes"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
)

// Labels on every managed Secret. The manager's cache selects Secrets by ManagedByLabel, so it
// never holds the cluster's other Secrets.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "k8s-aws-operator"
	OwnerLabel     = "ssm.aws.605.tv/ssmconfig"
)

func desiredSecret(obj *ssmv1alpha1.SsmConfig, name string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: obj.Namespace,
			Labels:    map[string]string{ManagedByLabel: ManagedByValue, OwnerLabel: obj.Name},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         ssmv1alpha1.GroupVersion.String(),
				Kind:               "SsmConfig",
				Name:               obj.Name,
				UID:                obj.UID,
				Controller:         ptr.To(true),
				BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
}

// secretUpToDate compares only what the operator owns: data and its labels. Other labels and
// annotations (added by users or tools) are left alone.
func secretUpToDate(current, desired *corev1.Secret) bool {
	for k, v := range desired.Labels {
		if current.Labels[k] != v {
			return false
		}
	}
	return maps.EqualFunc(current.Data, desired.Data, bytes.Equal)
}

// mergeSecret is current with the desired data and labels.
func mergeSecret(current, desired *corev1.Secret) *corev1.Secret {
	merged := current.DeepCopy()
	if merged.Labels == nil {
		merged.Labels = map[string]string{}
	}
	maps.Copy(merged.Labels, desired.Labels)
	merged.Data = desired.Data
	merged.StringData = nil
	return merged
}

// secretChanges names the keys a write changed, for the Event (key names only, never values).
type secretChanges struct {
	created                 bool
	added, updated, removed []string
}

func (c secretChanges) any() bool {
	return c.created || len(c.added)+len(c.updated)+len(c.removed) > 0
}

func diffData(current, desired map[string][]byte) secretChanges {
	var c secretChanges
	for _, k := range sortedKeys(desired) {
		old, ok := current[k]
		switch {
		case !ok:
			c.added = append(c.added, k)
		case !bytes.Equal(old, desired[k]):
			c.updated = append(c.updated, k)
		}
	}
	for _, k := range sortedKeys(current) {
		if _, ok := desired[k]; !ok {
			c.removed = append(c.removed, k)
		}
	}
	return c
}
