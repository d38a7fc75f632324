// Command bench measures k8s-aws-operator at cluster scale (issue 7): AWS calls, convergence time
// under the account's quotas, no-op cost and memory, each next to the limit it is compared with.
// It runs a real kube-apiserver + etcd, the AWS emulator with quotas and latency, and the operator
// binary as its own process (so its memory is its own), then prints a table and a JSON summary.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/605-tv/k8s-aws-operator/internal/operator"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

func main() {
	code, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	os.Exit(code)
}

// errTargetsMissed is the exit status of --strict when a target is missed.
var errTargetsMissed = errors.New("targets missed")

func run() (int, error) {
	cfg, err := parseConfig(os.Args[1:])
	if err != nil {
		return 2, err
	}
	// The benchmark reports through its results; client-go's own logs (watches ending when a control
	// plane stops) are noise.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	results, err := runScenarios(ctx, cfg)
	if err != nil {
		return 1, err
	}
	s := newSummary(cfg, started, results)
	fmt.Println()
	printTable(os.Stdout, results)
	fmt.Println()
	if err := writeSummary(os.Stdout, cfg.Out, s); err != nil {
		return 1, err
	}
	if cfg.Strict && len(s.Missed) > 0 {
		return 1, fmt.Errorf("%w: %v", errTargetsMissed, s.Missed)
	}
	return 0, nil
}

func runScenarios(ctx context.Context, cfg *config) ([]result, error) {
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	step("building the operator")
	binary, err := testbed.BuildOperator(ctx, dir)
	if err != nil {
		return nil, err
	}
	var results []result
	if cfg.runs(groupSSM) {
		ssm, err := runSSM(ctx, cfg, binary)
		if err != nil {
			return nil, fmt.Errorf("SSM scenarios: %w", err)
		}
		results = append(results, ssm...)
	}
	if cfg.runs(groupIAM) {
		iam, err := runIAM(ctx, cfg, binary)
		if err != nil {
			return nil, fmt.Errorf("IAM scenario: %w", err)
		}
		results = append(results, iam...)
	}
	return results, nil
}

func step(msg string) { fmt.Printf("==> %s %s\n", time.Now().Format("15:04:05"), msg) }

// fastClient is an uncached admin client without client-side rate limiting, so that the
// benchmark's own mass creations are limited by the API server only.
func fastClient(bed *testbed.Bed) (client.Client, error) {
	restCfg := *bed.ControlPlane.Config
	restCfg.QPS, restCfg.Burst = -1, 0
	return client.New(&restCfg, client.Options{Scheme: operator.Scheme()})
}

// creators is how many objects the benchmark creates concurrently.
const creators = 32

// parallel runs do for 0..n-1 on a few goroutines and returns the first error.
func parallel(ctx context.Context, n int, do func(ctx context.Context, i int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(creators)
	for i := range n {
		g.Go(func() error { return do(ctx, i) })
	}
	return g.Wait()
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func stopBed(bed *testbed.Bed) {
	if err := bed.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: stopping the control plane:", err)
	}
}

// stopOperator stops the operator unless none was started.
func stopOperator(op *runningOperator) {
	if op == nil {
		return
	}
	if err := op.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: stopping the operator:", err)
	}
}
