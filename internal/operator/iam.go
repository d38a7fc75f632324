package operator

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	corecontroller "github.com/605-tv/k8s-aws-operator/controllers/core"
	"github.com/605-tv/k8s-aws-operator/internal/awsclient"
	"github.com/605-tv/k8s-aws-operator/internal/irsa"
)

// clusterNamePattern is EKS's own rule for cluster names; it also keeps the name valid in IAM role
// names and tag values.
var clusterNamePattern = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)

// setupIAM registers the ServiceAccount IAM controller. Without a cluster name it stays off: role
// names and ownership tags need one, and a guessed name could collide with another cluster's roles.
func setupIAM(_ context.Context, mgr manager.Manager, cfg *Config, clients *awsclient.Clients) error {
	logger := mgr.GetLogger().WithName("iam")
	if cfg.ClusterName == "" {
		logger.Info("ServiceAccount IAM controller disabled: --cluster-name (" + EnvVar("cluster-name") +
			") is not set; SsmConfigs are served as usual")
		return nil
	}
	guardrails, err := iamGuardrails(cfg)
	if err != nil {
		return fmt.Errorf("IAM controller configuration: %w", err)
	}
	reconciler := &corecontroller.ServiceAccountReconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("serviceaccount-iam-controller"),
		Roles:    irsa.NewRoleManager(clients.IAM),
		Provider: &corecontroller.Discovery{
			STS:    clients.STS,
			IAM:    clients.IAM,
			Issuer: issuerSource(mgr, cfg.OIDCIssuer),
			Clock:  clock.RealClock{},
		},
		Guardrails:   guardrails,
		ClusterName:  cfg.ClusterName,
		RolePath:     cfg.RolePath,
		ResyncPeriod: cfg.IAMResyncPeriod,
	}
	if err := reconciler.SetupWithManager(mgr, cfg.IAMConcurrency); err != nil {
		return fmt.Errorf("setting up the ServiceAccount IAM controller: %w", err)
	}
	logger.Info("ServiceAccount IAM controller enabled", "cluster", cfg.ClusterName, "rolePath", cfg.RolePath,
		"allowList", guardrails.Allow, "denyList", guardrails.Deny, "permissionsBoundary", guardrails.PermissionsBoundary)
	return nil
}

// iamGuardrails builds the guardrails and reports every configuration problem at once, so that a
// bad setting stops the operator at start instead of failing each ServiceAccount later.
func iamGuardrails(cfg *Config) (irsa.Guardrails, error) {
	guardrails := irsa.Guardrails{
		Allow:               SplitListOrNil(cfg.PolicyAllowList),
		Deny:                SplitListOrNil(cfg.PolicyDenyList),
		PermissionsBoundary: cfg.PermissionsBoundary,
		RequireBoundary:     cfg.RequireBoundary,
		MaxPolicies:         cfg.MaxPolicies,
	}
	problems := []error{guardrails.Validate(), irsa.ValidateRolePath(cfg.RolePath)}
	if !clusterNamePattern.MatchString(cfg.ClusterName) {
		problems = append(problems, fmt.Errorf("--cluster-name %q must be 1-100 letters, digits, '-' or '_', starting with a letter or digit", cfg.ClusterName))
	}
	if cfg.OIDCIssuer != "" {
		problems = append(problems, irsa.ValidateIssuerURL(cfg.OIDCIssuer))
	}
	if cfg.IAMResyncPeriod <= 0 {
		problems = append(problems, fmt.Errorf("--iam-resync-period must be positive, got %s", cfg.IAMResyncPeriod))
	}
	return guardrails, errors.Join(problems...)
}

// issuerSource returns the configured issuer, or reads it from the API server's OIDC discovery
// document with the manager's credentials.
func issuerSource(mgr manager.Manager, configured string) func(context.Context) (string, error) {
	if configured != "" {
		return func(context.Context) (string, error) { return configured, nil }
	}
	return func(ctx context.Context) (string, error) {
		return irsa.IssuerFromDiscovery(ctx, mgr.GetHTTPClient(), mgr.GetConfig().Host)
	}
}
