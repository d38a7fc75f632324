// Package awsclient builds the operator's AWS SDK clients: the SDK's default credential and
// endpoint chain (so AWS_ENDPOINT_URL, IRSA and OpenShift STS work unchanged), the SDK's standard
// retryer, a rate budget per service shared by every call, and per-attempt call metrics.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"

	"github.com/605-tv/k8s-aws-operator/internal/metrics"
)

// Options tune the clients. Zero rates mean unlimited.
type Options struct {
	// Region overrides the region of the default chain (AWS_REGION, profile, IMDS).
	Region string
	// MaxAttempts is the SDK retryer's attempt count per call, first attempt included.
	MaxAttempts int
	// MaxBackoff caps the retryer's jittered exponential backoff.
	MaxBackoff time.Duration
	// SSMRate and SSMBurst form the token bucket every SSM call waits on.
	SSMRate  float64
	SSMBurst int
	// IAMRate and IAMBurst form the token bucket every IAM and STS call waits on.
	IAMRate  float64
	IAMBurst int
}

// Clients are the SDK clients the controllers use.
type Clients struct {
	SSM *ssm.Client
	IAM *iam.Client
	STS *sts.Client
}

// New loads the default AWS configuration and builds the clients.
func New(ctx context.Context, opts Options) (*Clients, error) {
	loadOpts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = opts.MaxAttempts
				o.MaxBackoff = opts.MaxBackoff
				// The rate budgets below already keep the account's quota safe; the retryer's own
				// retry-token bucket would turn a burst of throttles into hard failures.
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	iamBudget := newLimiter(opts.IAMRate, opts.IAMBurst)
	return &Clients{
		SSM: ssm.NewFromConfig(cfg, func(o *ssm.Options) {
			o.APIOptions = append(o.APIOptions, instrument(newLimiter(opts.SSMRate, opts.SSMBurst)))
		}),
		IAM: iam.NewFromConfig(cfg, func(o *iam.Options) { o.APIOptions = append(o.APIOptions, instrument(iamBudget)) }),
		STS: sts.NewFromConfig(cfg, func(o *sts.Options) { o.APIOptions = append(o.APIOptions, instrument(iamBudget)) }),
	}, nil
}

func newLimiter(perSecond float64, burst int) *rate.Limiter {
	if perSecond <= 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(perSecond), max(burst, 1))
}

// instrument adds, after the retry middleware (so once per attempt): waiting on the rate budget,
// then counting the attempt's outcome.
func instrument(budget *rate.Limiter) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("RateBudgetAndMetrics",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
				middleware.FinalizeOutput, middleware.Metadata, error,
			) {
				if err := budget.Wait(ctx); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				out, md, err := next.HandleFinalize(ctx, in)
				metrics.AWSCalls.WithLabelValues(
					awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), Outcome(err),
				).Inc()
				return out, md, err
			}), "Retry", middleware.After)
	}
}

// Outcome names an AWS call's result for metrics and status: "ok", the service's error code, or
// "transport" when no answer came back.
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return "transport"
}
