package core

import (
	"fmt"
	"strings"
	"time"
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

// stepError stops a reconcile at one step, with the reason users see in the Warning Event.
type stepError struct {
	reason  string
	message string
	cause   error
	// retry hands the error to the workqueue's backoff: the cause is transient.
	retry bool
	// after is when to look again when not retrying with backoff; zero means at the next resync.
	after time.Duration
	// quiet marks an expected passing state: no Warning Event, no error in the log.
	quiet bool
}

func (e *stepError) Error() string {
	if e.cause != nil {
		return e.message + ": " + e.cause.Error()
	}
	return e.message
}

func (e *stepError) Unwrap() error { return e.cause }

// refusal is a problem only the ServiceAccount's owner (or the IAM admin) can fix: retrying
// sooner than the resync would not help, and editing the ServiceAccount triggers a reconcile.
func refusal(reason, format string, args ...any) *stepError {
	return &stepError{reason: reason, message: fmt.Sprintf(format, args...)}
}

// transient is a failure of AWS or of the API server that backoff retries may overcome.
func transient(reason, action string, err error) *stepError {
	return &stepError{reason: reason, message: action, cause: err, retry: true}
}

// requeueSoon is an expected passing state, looked at again after a short while, quietly.
func requeueSoon(message string, after time.Duration, cause error) *stepError {
	return &stepError{message: message, cause: cause, after: after, quiet: true}
}

// propagating is IAM's eventual consistency, expected right after CreateRole.
func propagating(err error) *stepError {
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
