package ssm

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Reasons of the Ready condition, also used as Event reasons and sync metric labels.
const (
	ReasonSynced            = "Synced"
	ReasonParameterNotFound = "ParameterNotFound"
	ReasonAccessDenied      = "AccessDenied"
	ReasonThrottled         = "Throttled"
	ReasonAWSError          = "AWSError"
	ReasonSecretConflict    = "SecretConflict"
	ReasonPathNotAllowed    = "PathNotAllowed"
	ReasonInvalidSpec       = "InvalidSpec"
	ReasonKubernetesError   = "KubernetesError"
)

// ConditionReady is the one condition an SsmConfig reports.
const ConditionReady = "Ready"

// syncError stops a sync at one step, with the reason users see in status and Events.
type syncError struct {
	reason  string
	message string
	// retry asks for a backoff requeue: the cause is transient (AWS or API server trouble).
	retry bool
	cause error
}

func (e *syncError) Error() string {
	if e.cause != nil {
		return e.message + ": " + e.cause.Error()
	}
	return e.message
}

func (e *syncError) Unwrap() error { return e.cause }

// userError is a problem only the user (or a cluster admin) can fix: no backoff retries.
func userError(reason, format string, args ...any) *syncError {
	return &syncError{reason: reason, message: fmt.Sprintf(format, args...)}
}

// kubeError is a transient API server failure.
func kubeError(action string, err error) *syncError {
	return &syncError{reason: ReasonKubernetesError, message: action, retry: true, cause: err}
}

// awsError classifies an SSM failure with the SDK's own notion of throttling.
func awsError(err error) *syncError {
	reason := ReasonAWSError
	var apiErr smithy.APIError
	switch {
	case retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool():
		reason = ReasonThrottled
	case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessDeniedException" || apiErr.ErrorCode() == "AccessDenied"):
		reason = ReasonAccessDenied
	}
	return &syncError{reason: reason, message: "reading from SSM", retry: true, cause: err}
}
