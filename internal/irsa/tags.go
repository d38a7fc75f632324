package irsa

import (
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Ownership tag keys. The operator only ever modifies or deletes roles that
// carry all of them with matching values, so a ServiceAccount cannot take over
// a role someone else created by choosing a colliding name.
const (
	ManagerName = "k8s-aws-operator"

	tagPrefix            = ManagerName + "/"
	TagKeyCluster        = tagPrefix + "cluster"
	TagKeyNamespace      = tagPrefix + "namespace"
	TagKeyServiceAccount = tagPrefix + "service-account"
	TagKeyManagedBy      = tagPrefix + "managed-by"
)

// Owner identifies the ServiceAccount a role belongs to.
type Owner struct {
	Cluster        string
	Namespace      string
	ServiceAccount string
}

// Tags returns the ownership tags for o.
func (o Owner) Tags() map[string]string {
	return map[string]string{
		TagKeyCluster:        o.Cluster,
		TagKeyNamespace:      o.Namespace,
		TagKeyServiceAccount: o.ServiceAccount,
		TagKeyManagedBy:      ManagerName,
	}
}

func (o Owner) complete() bool {
	return o.Cluster != "" && o.Namespace != "" && o.ServiceAccount != ""
}

// OwnedBy reports whether tags mark the role as managed by this operator for
// the given cluster, namespace and ServiceAccount.
func OwnedBy(tags []types.Tag, cluster, namespace, serviceAccount string) bool {
	owner := Owner{Cluster: cluster, Namespace: namespace, ServiceAccount: serviceAccount}
	return owner.complete() && len(missingTags(tags, owner.Tags())) == 0
}

func isReservedTagKey(key string) bool {
	return strings.HasPrefix(key, tagPrefix)
}

// missingTags returns the entries of want that tags lacks or holds with a
// different value.
func missingTags(tags []types.Tag, want map[string]string) []types.Tag {
	current := make(map[string]string, len(tags))
	for _, tag := range tags {
		current[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	missing := make(map[string]string)
	for key, value := range want {
		if got, ok := current[key]; !ok || got != value {
			missing[key] = value
		}
	}
	return tagList(missing)
}

// tagList converts tags to the SDK's form, sorted by key so that requests are
// deterministic.
func tagList(tags map[string]string) []types.Tag {
	list := make([]types.Tag, 0, len(tags))
	for _, key := range slices.Sorted(maps.Keys(tags)) {
		list = append(list, types.Tag{Key: aws.String(key), Value: aws.String(tags[key])})
	}
	return list
}
