package core

import (
	"strings"
	"time"

	"github.com/605-tv/k8s-aws-operator/internal/steps"
)

// Event reasons. Normal events report a change in IAM, Warning events a refusal or a failure.
const (
	ReasonRoleCreated        = "RoleCreated"
	ReasonPoliciesAttached   = "PoliciesAttached"
	ReasonPoliciesDetached   = "PoliciesDetached"
	ReasonTrustPolicyUpdated = "TrustPolicyUpdated"
	ReasonBoundaryUpdated    = "BoundaryUpdated"
	ReasonRoleTagsUpdated    = "RoleTagsUpdated"
	ReasonRoleDeleted        = "RoleDeleted"

	ReasonInvalidPolicies      = "InvalidPolicies"
	ReasonPolicyNotAllowed     = "PolicyNotAllowed"
	ReasonRoleConflict         = "RoleConflict"
	ReasonOIDCProviderNotFound = "OIDCProviderNotFound"
	ReasonDiscoveryFailed      = "DiscoveryFailed"
	ReasonIAMError             = "IAMError"
	ReasonKubernetesError      = "KubernetesError"
)

const (
	// propagationRetryInterval is how soon to look again at a role IAM has not propagated yet
	// (AWS quotes "a few seconds").
	propagationRetryInterval = 5 * time.Second
	// conflictRetryInterval is how soon to retry a ServiceAccount write that lost a race.
	conflictRetryInterval = time.Second
	// providerRecheckInterval is how soon ServiceAccounts look again for a missing OIDC provider,
	// so roles follow within a minute of an admin creating it.
	providerRecheckInterval = time.Minute
	// maxNoteLength keeps Event notes under the 1 kB events.k8s.io accepts.
	maxNoteLength = 1000
)

// requeueSoon is an expected passing state, looked at again after a short while, quietly.
func requeueSoon(message string, after time.Duration, cause error) *steps.Error {
	return &steps.Error{Message: message, Cause: cause, After: after, Quiet: true}
}

// propagating is IAM's eventual consistency, expected right after CreateRole.
func propagating(err error) *steps.Error {
	return requeueSoon("waiting for IAM to propagate the role", propagationRetryInterval, err)
}

// oneLine keeps a (possibly joined, multi-line) error message in one bounded line for an Event.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	if len(s) > maxNoteLength {
		s = strings.ToValidUTF8(s[:maxNoteLength-3], "") + "..."
	}
	return s
}
