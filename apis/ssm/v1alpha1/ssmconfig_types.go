package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ParameterName is an SSM Parameter Store name, optionally followed by a version (":3") or a
// label (":prod") selector. Hierarchical names start with "/"; SSM allows letters, digits and
// "_.-/" and at most 1011 characters for the name itself.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=1113
// +kubebuilder:validation:XValidation:rule="self.matches('^([a-zA-Z0-9_.-]+|(/[a-zA-Z0-9_.-]+)+)(:[a-zA-Z0-9_.-]{1,100})?$')",message="must be an SSM parameter name: letters, digits and _.-/ only, a hierarchical name starts with '/' and has no empty level, optionally followed by ':<version>' or ':<label>'"
// +kubebuilder:validation:XValidation:rule="(self.indexOf(':') < 0 ? self : self.substring(0, self.indexOf(':'))).size() <= 1011",message="an SSM parameter name is at most 1011 characters long"
type ParameterName string

// ParameterPath is a hierarchy in SSM Parameter Store whose parameters are all included.
type ParameterPath struct {
	// Path is the hierarchy to read, e.g. "/dev-qa/airflow".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1011
	// +kubebuilder:validation:XValidation:rule="self == '/' || self.matches('^(/[a-zA-Z0-9_.-]+)+/?$')",message="must be an SSM path: starts with '/', letters, digits and _.-/ only"
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Path",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:text"}
	Path string `json:"path"`

	// Recursive also includes parameters in every level below Path, not only its direct children.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Recursive",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:booleanSwitch"}
	Recursive bool `json:"recursive,omitempty"`
}

// KeyMapping gives one parameter an explicit key in the Secret, for basenames that collide or are
// not valid Secret keys.
type KeyMapping struct {
	// Parameter is the parameter name exactly as listed in ssmKeys (selector included), or the full
	// name of a parameter found under one of ssmPaths.
	Parameter ParameterName `json:"parameter"`

	// SecretKey is the key the value is stored under in the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Secret Key",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:text"}
	SecretKey string `json:"secretKey"`
}

// SsmConfigSpec lists the SSM parameters to copy into a Secret in the same namespace.
// +kubebuilder:validation:XValidation:rule="has(self.ssmKeys) || has(self.ssmPaths)",message="at least one of ssmKeys or ssmPaths is required"
type SsmConfigSpec struct {
	// SsmKeys are SSM parameter names; each becomes a Secret key named after the parameter's
	// basename (the part after the last "/"), e.g. "/dev-qa/airflow/FERNET_KEY" gives "FERNET_KEY".
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=500
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="SSM Keys",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:text"}
	SsmKeys []ParameterName `json:"ssmKeys,omitempty"`

	// SsmPaths are hierarchies whose parameters are all included, with the same basename keys.
	// +optional
	// +listType=map
	// +listMapKey=path
	// +kubebuilder:validation:MaxItems=20
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="SSM Paths"
	SsmPaths []ParameterPath `json:"ssmPaths,omitempty"`

	// KeyMappings override the Secret key of individual parameters.
	// +optional
	// +listType=map
	// +listMapKey=parameter
	// +kubebuilder:validation:MaxItems=500
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Key Mappings"
	KeyMappings []KeyMapping `json:"keyMappings,omitempty"`

	// SecretName is the name of the Secret to manage; it defaults to the SsmConfig's name.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Secret Name",xDescriptors={"urn:alm:descriptor:io.kubernetes:Secret"}
	SecretName string `json:"secretName,omitempty"`

	// RefreshInterval is how often values are re-read from SSM (with ±10% jitter); "0s" re-reads
	// only when the SsmConfig changes.
	// +optional
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Format=duration
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Refresh Interval",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:text"}
	RefreshInterval *metav1.Duration `json:"refreshInterval,omitempty"`
}

// SsmConfigStatus reports how the last sync went.
type SsmConfigStatus struct {
	// Conditions: Ready tells whether the Secret holds every requested parameter.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Conditions",xDescriptors={"urn:alm:descriptor:io.kubernetes.conditions"}
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Observed Generation"
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// SecretName is the Secret the operator manages for this SsmConfig.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Secret",xDescriptors={"urn:alm:descriptor:io.kubernetes:Secret"}
	SecretName string `json:"secretName,omitempty"`

	// SyncedKeys is the number of keys in the Secret.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Synced Keys"
	SyncedKeys int32 `json:"syncedKeys,omitempty"`

	// LastSyncTime is when the Secret or the sync's outcome last changed, from values read from SSM
	// at that time. Refreshes that find nothing new write nothing, this field included.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Last Sync Time"
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`

	// MissingParameters lists requested names that SSM does not have (at most 20 shown).
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Missing Parameters"
	MissingParameters []string `json:"missingParameters,omitempty"`

	// DeniedParameters lists requested names outside the namespace's allowed paths (at most 20 shown).
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Denied Parameters"
	DeniedParameters []string `json:"deniedParameters,omitempty"`
}

// SsmConfig keeps a Secret in its namespace in sync with AWS SSM Parameter Store parameters.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ssmc
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.status.secretName`
// +kubebuilder:printcolumn:name="Keys",type=integer,JSONPath=`.status.syncedKeys`
// +kubebuilder:printcolumn:name="Last Sync",type=date,JSONPath=`.status.lastSyncTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// The controller records Events with events.k8s.io/v1; listing Event v1 here also tells bundle
// validation which Event API the RBAC rule is for.
// +operator-sdk:csv:customresourcedefinitions:displayName="SSM Config",resources={{Secret,v1,""},{Event,v1,""}}
type SsmConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   SsmConfigSpec   `json:"spec"`
	Status SsmConfigStatus `json:"status,omitempty"`
}

// SsmConfigList is a list of SsmConfig.
// +kubebuilder:object:root=true
type SsmConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SsmConfig `json:"items"`
}

func init() {
	SchemeBuilder.Register(&SsmConfig{}, &SsmConfigList{})
}
