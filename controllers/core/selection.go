package core

import (
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
)

// The ServiceAccount metadata this controller reads and writes.
const (
	// SelectorLabel=SelectorValue (exact, case-sensitive) marks a ServiceAccount that wants a role.
	SelectorLabel = "type"
	SelectorValue = "iam"
	// PoliciesAnnotation lists the managed policy ARNs of the role, separated by commas or whitespace.
	PoliciesAnnotation = "attachedPolicies"
	// RoleARNAnnotation is where the EKS pod identity webhook looks for the role to inject.
	RoleARNAnnotation = "eks.amazonaws.com/role-arn"
	// Finalizer holds a selected ServiceAccount until its role is deleted.
	Finalizer = "iam.aws.605.tv/role"
)

// selected reports whether a ServiceAccount asks for a role: the label and the annotation, even empty
// (a role without policies), must both be there.
func selected(obj client.Object) bool {
	_, annotated := obj.GetAnnotations()[PoliciesAnnotation]
	return obj.GetLabels()[SelectorLabel] == SelectorValue && annotated
}

// wantsRole reports whether a ServiceAccount's role must exist now.
func wantsRole(obj client.Object) bool {
	return obj.GetDeletionTimestamp().IsZero() && selected(obj)
}

// relevant lets through every event the controller must see: a ServiceAccount selected now, or one
// that still carries our finalizer and so has a role to clean up after losing its label or
// annotation. Filtering on the selection alone would hide exactly those.
func relevant(obj client.Object) bool {
	return selected(obj) || controllerutil.ContainsFinalizer(obj, Finalizer)
}

// namesRole reports whether a role ARN annotation points at roleName, so that cleanup removes our
// annotation but never one that a user pointed at a role of their own.
func namesRole(value, roleName string) bool {
	parsed, err := arn.Parse(value)
	return err == nil && parsed.Service == "iam" &&
		strings.HasPrefix(parsed.Resource, "role/") && strings.HasSuffix(parsed.Resource, "/"+roleName)
}

// ownWrite reports whether an update only adds our finalizer and/or sets the role ARN annotation to
// our own role: the reconcile that wrote it has just converged the role, and comparing it with IAM
// again would only spend quota. Anything else, such as a user removing the annotation, still
// triggers a reconcile.
func (r *ServiceAccountReconciler) ownWrite(old, updated *corev1.ServiceAccount) bool {
	if !equality.Semantic.DeepEqual(old.Labels, updated.Labels) ||
		!old.DeletionTimestamp.Equal(updated.DeletionTimestamp) ||
		!equality.Semantic.DeepEqual(old.Secrets, updated.Secrets) ||
		!equality.Semantic.DeepEqual(old.ImagePullSecrets, updated.ImagePullSecrets) ||
		!equality.Semantic.DeepEqual(old.AutomountServiceAccountToken, updated.AutomountServiceAccountToken) {
		return false
	}
	withOurs := old.Finalizers
	if !controllerutil.ContainsFinalizer(old, Finalizer) {
		withOurs = append(slices.Clone(old.Finalizers), Finalizer)
	}
	if !slices.Equal(updated.Finalizers, old.Finalizers) && !slices.Equal(updated.Finalizers, withOurs) {
		return false
	}
	oldARN, hadARN := old.Annotations[RoleARNAnnotation]
	newARN, hasARN := updated.Annotations[RoleARNAnnotation]
	switch {
	case hadARN && !hasARN:
		return false
	case hasARN && newARN != oldARN && !namesRole(newARN, irsa.RoleName(r.ClusterName, updated.Namespace, updated.Name)):
		return false
	}
	return equality.Semantic.DeepEqual(withoutRoleARN(old.Annotations), withoutRoleARN(updated.Annotations))
}

func withoutRoleARN(annotations map[string]string) map[string]string {
	out := maps.Clone(annotations)
	delete(out, RoleARNAnnotation)
	return out
}
