// Package v1alpha1 contains the SsmConfig API of the ssm.aws.605.tv group.
// +kubebuilder:object:generate=true
// +groupName=ssm.aws.605.tv
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the SsmConfig API.
	GroupVersion = schema.GroupVersion{Group: "ssm.aws.605.tv", Version: "v1alpha1"}

	// SchemeBuilder registers the API's types with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the API's types to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
