// Command manager runs k8s-aws-operator: SsmConfig → Secret sync from AWS SSM Parameter Store,
// and IAM roles for ServiceAccounts (IRSA).
package main

import (
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/605-tv/k8s-aws-operator/internal/awsclient"
	"github.com/605-tv/k8s-aws-operator/internal/operator"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	cfg, err := operator.ParseFlags(flag.CommandLine, os.Args[1:])
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")

	// SIGTERM/SIGINT cancel ctx: the manager stops its controllers, lets running reconciles finish
	// (up to --graceful-shutdown-timeout) and releases the leader lease.
	ctx := ctrl.SetupSignalHandler()
	awsclient.UseOpenShiftSTS(os.Getenv, os.Setenv)
	clients, err := awsclient.New(ctx, cfg.AWS)
	if err != nil {
		return err
	}
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	mgr, err := operator.NewManager(restCfg, cfg)
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := operator.Setup(ctx, mgr, cfg, clients); err != nil {
		return err
	}
	log.Info("starting manager", "metrics", cfg.MetricsAddr, "probes", cfg.ProbeAddr, "leaderElection", cfg.LeaderElect)
	return mgr.Start(ctx)
}
