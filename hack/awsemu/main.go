// Command awsemu serves the in-process AWS emulator (SSM Parameter Store,
// IAM, STS) on a loopback address for demos, manual testing and benchmarks:
//
//	go run ./hack/awsemu --listen 127.0.0.1:4566 --seed seed.json
//	AWS_ENDPOINT_URL=http://127.0.0.1:4566 aws sts get-caller-identity
//
// Knobs (rate limits, faults, latency, counters) are under /_emulator/, as
// documented on awsemu.AdminPathPrefix.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "awsemu:", err)
		os.Exit(1)
	}
}

type config struct {
	listen    string
	seedPath  string
	accountID string
	partition string
	region    string
}

func parseFlags(args []string) (config, error) {
	var cfg config
	flags := flag.NewFlagSet("awsemu", flag.ContinueOnError)
	flags.StringVar(&cfg.listen, "listen", "127.0.0.1:4566", "loopback address to serve on (port 0 picks a free port)")
	flags.StringVar(&cfg.seedPath, "seed", "", "JSON file with parameters, policies and OIDC providers to create at start")
	flags.StringVar(&cfg.accountID, "account-id", "123456789012", "AWS account ID that owns every resource")
	flags.StringVar(&cfg.partition, "partition", "aws", "partition used in ARNs")
	flags.StringVar(&cfg.region, "region", "us-east-1", "region used in SSM ARNs")
	if err := flags.Parse(args); err != nil {
		return config{}, err
	}
	if flags.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	return cfg, checkLoopback(cfg.listen)
}

// checkLoopback refuses addresses reachable from other machines: the
// emulator has no real authentication.
func checkLoopback(address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", address, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--listen %q: only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed", address)
	}
	return nil
}

func newEmulator(cfg config) (*awsemu.Emulator, error) {
	emu := awsemu.New(awsemu.Options{AccountID: cfg.accountID, Partition: cfg.partition, Region: cfg.region})
	if cfg.seedPath == "" {
		return emu, nil
	}
	file, err := os.Open(cfg.seedPath)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	seed, err := awsemu.LoadSeed(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.seedPath, err)
	}
	if err := emu.Seed(seed); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.seedPath, err)
	}
	return emu, nil
}

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	emu, err := newEmulator(cfg)
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	server := &http.Server{Handler: emu.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	fmt.Fprintf(stdout, "awsemu listening on http://%s\n", listener.Addr())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	emu.Close() // releases requests held by injected latency or timeouts
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
