package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

// operatorLauncher starts the operator binary against one bed, as often as a scenario restarts it.
type operatorLauncher struct {
	bed        *testbed.Bed
	binary     string
	kubeconfig string
	name       string
	args       []string
	runs       int
}

func newOperatorLauncher(bed *testbed.Bed, binary, dir, name string, args []string) (*operatorLauncher, error) {
	kubeconfig := filepath.Join(dir, name+".kubeconfig")
	if err := bed.WriteKubeconfig(kubeconfig); err != nil {
		return nil, err
	}
	return &operatorLauncher{bed: bed, binary: binary, kubeconfig: kubeconfig, name: filepath.Join(dir, name), args: args}, nil
}

// runningOperator is one run of the operator process, with its metrics endpoint.
type runningOperator struct {
	*testbed.Process
	pid        int
	metricsURL string
}

// start runs the operator; each run logs to a file of its own (<dir>/<name>-operator-<run>.log).
func (l *operatorLauncher) start() (*runningOperator, error) {
	port, err := testbed.FreePort()
	if err != nil {
		return nil, err
	}
	l.runs++
	address := "127.0.0.1:" + strconv.Itoa(port)
	cmd := l.bed.OperatorCommand(l.binary, l.kubeconfig, append(slices.Clone(l.args), "--metrics-bind-address="+address)...)
	p, err := testbed.StartProcess("operator", fmt.Sprintf("%s-operator-%d.log", l.name, l.runs), cmd)
	if err != nil {
		return nil, err
	}
	return &runningOperator{Process: p, pid: cmd.Process.Pid, metricsURL: "http://" + address + "/metrics"}, nil
}

// stopGrace is how long the operator may take to shut down after SIGTERM.
const stopGrace = 15 * time.Second

// stop stops the operator, reporting it if it had exited on its own before.
func (o *runningOperator) stop() error {
	exited, exitErr := o.Exited()
	stopErr := o.Stop(stopGrace)
	if exited {
		return fmt.Errorf("the operator had exited on its own: %v (log: %s)", exitErr, o.LogPath)
	}
	return stopErr
}

// memory is the operator's resident memory as the kernel counts it.
type memory struct {
	// PeakMiB is VmHWM: the most resident memory the process has had since it started.
	PeakMiB float64
	// CurrentMiB is VmRSS.
	CurrentMiB float64
}

func (o *runningOperator) memory() (memory, error) {
	status := fmt.Sprintf("/proc/%d/status", o.pid)
	peak, current := procKiB(status, "VmHWM"), procKiB(status, "VmRSS")
	if peak == 0 {
		return memory{}, fmt.Errorf("no VmHWM in %s", status)
	}
	return memory{PeakMiB: float64(peak) / 1024, CurrentMiB: float64(current) / 1024}, nil
}

// reconciles is how many reconciles the named controller has finished without error, from the
// operator's own metrics.
func (o *runningOperator) reconciles(ctx context.Context, controller string) (int, error) {
	families, err := scrape(ctx, o.metricsURL)
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, m := range families["controller_runtime_reconcile_total"].GetMetric() {
		if label(m, "controller") == controller && label(m, "result") != "error" {
			total += m.GetCounter().GetValue()
		}
	}
	return int(total), nil
}

func scrape(ctx context.Context, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// pollInterval is how often waits look at what they wait for, and so the resolution of the times
// taken from the operator's metrics (those taken from watches are exact).
const pollInterval = 50 * time.Millisecond

// waitFor polls done until it is true, failing when the operator exits, ctx ends or timeout passes.
func waitFor(ctx context.Context, op *runningOperator, timeout time.Duration, what string, done func() (bool, error)) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if exited, err := op.Exited(); exited {
			return fmt.Errorf("the operator exited while waiting for %s: %v (log: %s)", what, err, op.LogPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("timed out after %s waiting for %s (log: %s)", timeout, what, op.LogPath)
		case <-tick.C:
		}
	}
}
