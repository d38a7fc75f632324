package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
)

// missingProviderCacheTTL is how long a lookup that found no OIDC provider is trusted, so that many
// ServiceAccounts waiting for it cost one IAM call per period, not one each.
const missingProviderCacheTTL = 30 * time.Second

// OIDCProvider is the cluster's identity provider in IAM, as a trust policy names it.
type OIDCProvider struct {
	ARN       string
	IssuerURL string
}

// ProviderNotFoundError means the cluster's issuer is not registered in IAM: a role trusting it
// could never be assumed, so none is created.
type ProviderNotFoundError struct {
	ARN string
}

func (e *ProviderNotFoundError) Error() string {
	return fmt.Sprintf("IAM OIDC provider %s does not exist; create it for the cluster's issuer "+
		"(e.g. eksctl utils associate-iam-oidc-provider) before ServiceAccounts can get roles", e.ARN)
}

// Discovery finds the cluster's IAM OIDC provider on first need and remembers it: the AWS account,
// partition and issuer do not change while the operator runs. It is safe for concurrent use, and
// concurrent first callers share one discovery.
type Discovery struct {
	STS irsa.CallerIdentityAPI
	IAM irsa.OIDCProviderAPI
	// Issuer returns the cluster's ServiceAccount token issuer URL: configured, or read from the
	// API server's discovery document.
	Issuer func(ctx context.Context) (string, error)
	// Clock times the cache of a missing provider; default the real clock.
	Clock clock.PassiveClock

	mu       sync.Mutex
	provider OIDCProvider // zero until account and issuer are known
	exists   bool
	// missingSince is when the provider was last found missing; zero when not known to be missing.
	missingSince time.Time
}

// Provider returns the cluster's OIDC provider, or *ProviderNotFoundError when IAM has none.
func (d *Discovery) Provider(ctx context.Context) (OIDCProvider, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.provider.ARN == "" {
		provider, err := d.discover(ctx)
		if err != nil {
			return OIDCProvider{}, err
		}
		d.provider = provider
	}
	if err := d.checkExists(ctx); err != nil {
		return OIDCProvider{}, err
	}
	return d.provider, nil
}

// discover derives the provider's ARN from who the operator is and what the cluster's issuer is.
func (d *Discovery) discover(ctx context.Context) (OIDCProvider, error) {
	account, err := irsa.DiscoverAccount(ctx, d.STS)
	if err != nil {
		return OIDCProvider{}, err
	}
	issuer, err := d.Issuer(ctx)
	if err != nil {
		return OIDCProvider{}, fmt.Errorf("finding the cluster's ServiceAccount issuer: %w", err)
	}
	if err := irsa.ValidateIssuerURL(issuer); err != nil {
		return OIDCProvider{}, err
	}
	return OIDCProvider{ARN: irsa.OIDCProviderARN(account.Partition, account.AccountID, issuer), IssuerURL: issuer}, nil
}

// checkExists asks IAM until the provider is found; a provider, once found, is assumed to stay.
func (d *Discovery) checkExists(ctx context.Context) error {
	if d.exists {
		return nil
	}
	now := d.clock().Now()
	if !d.missingSince.IsZero() && now.Sub(d.missingSince) < missingProviderCacheTTL {
		return &ProviderNotFoundError{ARN: d.provider.ARN}
	}
	exists, err := irsa.ProviderExists(ctx, d.IAM, d.provider.ARN)
	switch {
	case err != nil:
		return err
	case !exists:
		d.missingSince = now
		return &ProviderNotFoundError{ARN: d.provider.ARN}
	}
	d.exists = true
	return nil
}

func (d *Discovery) clock() clock.PassiveClock {
	if d.Clock == nil {
		return clock.RealClock{}
	}
	return d.Clock
}
