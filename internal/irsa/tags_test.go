package irsa

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOwnedBy(t *testing.T) {
	owned := testOwner.Tags()
	tests := []struct {
		name  string
		tags  map[string]string
		owner Owner
		want  bool
	}{
		{name: "all ownership tags match", tags: owned, owner: testOwner, want: true},
		{name: "extra tags are fine", tags: withTag(testOwner.Tags(), "team", "sre"), owner: testOwner, want: true},
		{name: "no tags", tags: nil, owner: testOwner},
		{name: "managed-by missing", tags: withoutTag(testOwner.Tags(), TagKeyManagedBy), owner: testOwner},
		{name: "other manager", tags: withTag(testOwner.Tags(), TagKeyManagedBy, "terraform"), owner: testOwner},
		{name: "other cluster", tags: owned, owner: Owner{Cluster: "staging", Namespace: testNamespace, ServiceAccount: testSA}},
		{name: "other namespace", tags: owned, owner: Owner{Cluster: testCluster, Namespace: "kube-system", ServiceAccount: testSA}},
		{name: "other service account", tags: owned, owner: Owner{Cluster: testCluster, Namespace: testNamespace, ServiceAccount: "other"}},
		{name: "empty owner never matches", tags: Owner{}.Tags(), owner: Owner{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, OwnedBy(tagList(tt.tags), tt.owner.Cluster, tt.owner.Namespace, tt.owner.ServiceAccount))
		})
	}
}

func withTag(tags map[string]string, key, value string) map[string]string {
	tags[key] = value
	return tags
}

func withoutTag(tags map[string]string, key string) map[string]string {
	delete(tags, key)
	return tags
}

func TestOwnershipTagKeysAreValidForIAM(t *testing.T) {
	for key := range testOwner.Tags() {
		assert.Regexp(t, `^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`, key)
	}
}
