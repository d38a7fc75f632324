package ssm

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/605-tv/k8s-aws-operator/internal/steps"
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

// kubeError is a transient API server failure.
func kubeError(action string, err error) *steps.Error {
	return steps.Transient(ReasonKubernetesError, action, err)
}

// awsError classifies an SSM failure with the SDK's own notion of throttling.
func awsError(err error) *steps.Error {
	reason := ReasonAWSError
	var apiErr smithy.APIError
	switch {
	case retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool():
		reason = ReasonThrottled
	case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessDeniedException" || apiErr.ErrorCode() == "AccessDenied"):
		reason = ReasonAccessDenied
	}
	return steps.Transient(reason, "reading from SSM", err)
}
