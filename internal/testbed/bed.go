package testbed

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/605-tv/k8s-aws-operator/internal/awsclient"
	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
	"github.com/605-tv/k8s-aws-operator/internal/irsa"
	"github.com/605-tv/k8s-aws-operator/internal/operator"
)

// Bed is a running control plane and AWS emulator. The operator's AWS SDK clients reach the
// emulator only through the SDK's standard AWS_ENDPOINT_URL setting.
type Bed struct {
	ControlPlane *ControlPlane
	// Client is an uncached admin client with the operator's scheme.
	Client      client.Client
	Emulator    *awsemu.Emulator
	EmulatorURL string
	// Issuer is the kube-apiserver's service-account token issuer, registered in the emulator as
	// the cluster's IAM OIDC provider.
	Issuer string
}

// Start starts kube-apiserver + etcd and the emulator, and points the AWS SDK at the emulator.
func Start() (*Bed, error) {
	return StartWith(awsemu.Options{})
}

// StartWith is Start with the emulator's options (its HTTPClient is the bed's own).
func StartWith(emuOpts awsemu.Options) (*Bed, error) {
	cp, err := StartControlPlane()
	if err != nil {
		return nil, err
	}
	bed, err := startOn(cp, emuOpts)
	if err != nil {
		_ = cp.Stop()
		return nil, err
	}
	return bed, nil
}

func startOn(cp *ControlPlane, emuOpts awsemu.Options) (*Bed, error) {
	k8s, err := client.New(cp.Config, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		return nil, err
	}
	httpClient, err := rest.HTTPClientFor(cp.Config)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	issuer, err := irsa.IssuerFromDiscovery(ctx, httpClient, cp.Config.Host)
	if err != nil {
		return nil, err
	}
	// The apiserver's discovery endpoints need credentials; the admin client has them.
	emuOpts.HTTPClient = httpClient
	emu := awsemu.New(emuOpts)
	if _, err := emu.CreateOIDCProvider(issuer, []string{irsa.WebIdentityAudience}); err != nil {
		return nil, err
	}
	url := emu.Start()
	for name, value := range map[string]string{
		"AWS_ENDPOINT_URL":            url,
		"AWS_ACCESS_KEY_ID":           "AKIAEMULATOR",
		"AWS_SECRET_ACCESS_KEY":       "emulator-secret",
		"AWS_REGION":                  "us-east-1",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		if err := os.Setenv(name, value); err != nil {
			return nil, err
		}
	}
	return &Bed{ControlPlane: cp, Client: k8s, Emulator: emu, EmulatorURL: url, Issuer: issuer}, nil
}

// Stop stops the emulator and the control plane.
func (b *Bed) Stop() error {
	b.Emulator.Close()
	return b.ControlPlane.Stop()
}

// Logs holds everything the operator logged in this test process, so tests can prove what never
// appears in logs (secret values). It is printed when tests fail.
var Logs = &syncBuffer{}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Main is a TestMain body: it starts a Bed into *bed, runs the tests and stops everything.
func Main(m *testing.M, bed **Bed) int {
	log.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(Logs)))
	b, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbed:", err)
		return 1
	}
	*bed = b
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- operator logs ---\n%s\n", Logs.String())
	}
	if err := b.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "testbed: stopping:", err)
	}
	return code
}

// OperatorConfig is the operator's default configuration for tests: plain-HTTP metrics and probes
// on free loopback ports, no leader election, a cluster name so both controllers run.
func OperatorConfig() (*operator.Config, error) {
	cfg, err := operator.ParseFlags(flag.NewFlagSet("test", flag.ContinueOnError), nil)
	if err != nil {
		return nil, err
	}
	metricsPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	probePort, err := FreePort()
	if err != nil {
		return nil, err
	}
	cfg.MetricsAddr = fmt.Sprintf("127.0.0.1:%d", metricsPort)
	cfg.MetricsSecure = false
	cfg.ProbeAddr = fmt.Sprintf("127.0.0.1:%d", probePort)
	cfg.ClusterName = "testbed"
	cfg.GracefulShutdown = 5 * time.Second
	return cfg, nil
}

// Operator is an operator running in this process.
type Operator struct {
	Config *operator.Config
	stop   context.CancelFunc
	done   chan error
}

// StartOperator runs the operator in-process against the bed, as main.go assembles it.
func (b *Bed) StartOperator(cfg *operator.Config) (*Operator, error) {
	mgr, err := operator.NewManager(b.ControlPlane.Config, cfg, func(o *ctrl.Options) {
		// Tests start the operator more than once per process (restarts, crash recovery).
		o.Controller.SkipNameValidation = ptr.To(true)
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	clients, err := awsclient.New(ctx, cfg.AWS)
	if err == nil {
		err = operator.Setup(ctx, mgr, cfg, clients)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	op := &Operator{Config: cfg, stop: cancel, done: make(chan error, 1)}
	go func() { op.done <- mgr.Start(ctx) }()
	return op, nil
}

// RunOperator starts the operator for the test and stops it when the test ends.
func (b *Bed) RunOperator(t testing.TB, mutate func(*operator.Config)) *Operator {
	t.Helper()
	cfg, err := OperatorConfig()
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(cfg)
	}
	op, err := b.StartOperator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := op.Stop(); err != nil {
			t.Errorf("operator stopped with: %v", err)
		}
	})
	return op
}

// Stop stops the operator and waits until it has exited.
func (op *Operator) Stop() error {
	op.stop()
	select {
	case err := <-op.done:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("operator did not stop within 30s")
	}
}

// FreePort is a TCP port on 127.0.0.1 that was free a moment ago, for a program that needs its port
// number on its command line.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
