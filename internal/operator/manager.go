package operator

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	ssmcontroller "github.com/605-tv/k8s-aws-operator/controllers/ssm"
	"github.com/605-tv/k8s-aws-operator/internal/awsclient"
	"github.com/605-tv/k8s-aws-operator/internal/ssmfetch"
)

// Scheme holds the built-in types and the SsmConfig API.
func Scheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(ssmv1alpha1.AddToScheme(scheme))
	return scheme
}

// NewManager builds the manager. Its cache holds only the Secrets the operator manages
// (label-selected), never every Secret in the cluster. Tweaks adjust the options (tests use them).
func NewManager(restCfg *rest.Config, cfg *Config, tweaks ...func(*ctrl.Options)) (manager.Manager, error) {
	metricsOpts := metricsserver.Options{BindAddress: cfg.MetricsAddr, SecureServing: cfg.MetricsSecure}
	if cfg.MetricsSecure {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	managedSecrets := labels.SelectorFromSet(labels.Set{ssmcontroller.ManagedByLabel: ssmcontroller.ManagedByValue})
	opts := ctrl.Options{
		Scheme:                        Scheme(),
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        cfg.ProbeAddr,
		LeaderElection:                cfg.LeaderElect,
		LeaderElectionID:              cfg.LeaderElectionID,
		LeaderElectionNamespace:       cfg.LeaderElectionNS,
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       &cfg.GracefulShutdown,
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: managedSecrets},
		}},
	}
	for _, tweak := range tweaks {
		tweak(&opts)
	}
	return ctrl.NewManager(restCfg, opts)
}

// Setup adds the SSM fetcher and both controllers to mgr, plus health checks.
func Setup(ctx context.Context, mgr manager.Manager, cfg *Config, clients *awsclient.Clients) error {
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	ssmReconciler := &ssmcontroller.Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("ssmconfig-controller"),
		Policy:    ssmcontroller.AccessPolicy{Default: SplitListOrNil(cfg.SSMAllowedPaths)},
	}
	fetcher := ssmfetch.New(clients.SSM, ssmfetch.Options{OnChange: ssmReconciler.ParameterChanged})
	if err := mgr.Add(fetcher); err != nil {
		return err
	}
	ssmReconciler.Fetcher = fetcher
	if err := ssmReconciler.SetupWithManager(mgr, cfg.SSMConcurrency); err != nil {
		return fmt.Errorf("setting up the SsmConfig controller: %w", err)
	}
	return setupIAM(ctx, mgr, cfg, clients)
}

// SplitListOrNil is SplitList, but nil for an empty list ("not configured").
func SplitListOrNil(s string) []string {
	if list := SplitList(s); len(list) > 0 {
		return list
	}
	return nil
}
