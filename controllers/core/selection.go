package core

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
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
