package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

const (
	// waveTimeout bounds one wave (creation or restart) and one refresh cycle beyond its interval.
	waveTimeout = 15 * time.Minute
	// settle lets the last writes of a phase (Events are sent in the background) land before the
	// next phase starts counting, and memory settle before it is read.
	settle = 3 * time.Second
	// etcdQuota holds tens of thousands of 50 KiB Secrets and their history (etcd's default is 2 GiB).
	etcdQuota = 8 << 30
)

// wave is every SsmConfig read from SSM once: at creation, or after an operator restart.
type wave struct {
	duration time.Duration
	calls    calls
	counts   ssmCounts
	// refreshes is how many reconciles of a restart read from SSM (one per SsmConfig).
	refreshes int
	// creating is how long creating the SsmConfigs took, for the creation wave.
	creating time.Duration
}

// refreshCycle is a window in which every SsmConfig refreshed at least once on its own schedule.
type refreshCycle struct {
	window time.Duration
	calls  calls
	counts ssmCounts
	// refreshes is how many times SsmConfigs were read from SSM in the window (some twice).
	refreshes int
}

// memoryGrowth is the operator's memory without and with unrelated Secrets in the cluster.
type memoryGrowth struct {
	without   memory // after a restart wave, before the Secrets exist
	with      memory // the same process, after the Secrets were added
	freshWith memory // a process started after the Secrets were added, after its restart wave
	secrets   int
	adding    time.Duration
	restart   wave // the second restart's wave
}

// ssmBench runs scenarios 1–4 against one control plane and emulator.
type ssmBench struct {
	cfg      *config
	bed      *testbed.Bed
	k8s      client.Client
	launcher *operatorLauncher
	observer *ssmObserver
	work     *ssmWorkload
	op       *runningOperator
}

func runSSM(ctx context.Context, cfg *config, binary string) ([]result, error) {
	step("SSM scenarios 1-4: starting kube-apiserver + etcd and the AWS emulator")
	bed, err := testbed.StartWithEtcdQuota(etcdQuota, awsemu.Options{})
	if err != nil {
		return nil, err
	}
	defer stopBed(bed)
	// Ends the watches before the control plane stops (deferred calls run last-in, first-out).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := &ssmBench{cfg: cfg, bed: bed, work: newSSMWorkload(cfg)}
	if err := b.prepare(ctx, binary); err != nil {
		return nil, err
	}
	defer func() { stopOperator(b.op) }()
	return b.run(ctx)
}

// prepare seeds SSM, sets the account's quota and latency, creates the namespaces, starts the
// watches and the operator.
func (b *ssmBench) prepare(ctx context.Context, binary string) error {
	var err error
	if b.k8s, err = fastClient(b.bed); err != nil {
		return err
	}
	if err := b.work.putParameters(b.bed.Emulator); err != nil {
		return err
	}
	if err := b.bed.Emulator.SetRateLimit(awsemu.ServiceSSM, ssmReadOperations, b.cfg.SSMQuota, int(b.cfg.SSMQuota)); err != nil {
		return err
	}
	if err := b.bed.Emulator.SetLatency(awsemu.ServiceSSM, b.cfg.SSMLatency.value()); err != nil {
		return err
	}
	if err := createNamespaces(ctx, b.k8s, b.work.namespaces); err != nil {
		return err
	}
	if b.observer, err = startSSMObserver(ctx, b.bed.ControlPlane.Config); err != nil {
		return err
	}
	if b.launcher, err = newOperatorLauncher(b.bed, binary, b.cfg.Dir, "ssm", operatorArgs(b.cfg)); err != nil {
		return err
	}
	b.op, err = b.launcher.start()
	return err
}

func (b *ssmBench) run(ctx context.Context) ([]result, error) {
	n := len(b.work.configs)
	step(fmt.Sprintf("scenarios 1+2: creating %d SsmConfigs at once (%d names, %d unique)", n, b.work.references(), b.work.uniqueNames()))
	creation, err := b.creationWave(ctx)
	if err != nil {
		return nil, err
	}
	step(fmt.Sprintf("scenarios 1+3: one periodic refresh cycle of all (refreshInterval %s ±10 %%)", b.cfg.RefreshInterval))
	cycle, err := b.refreshCycle(ctx)
	if err != nil {
		return nil, err
	}
	step("scenarios 1+3: restarting the operator (memory empty): a full refresh of all")
	restart, err := b.restartWave(ctx)
	if err != nil {
		return nil, err
	}
	step(fmt.Sprintf("scenario 4: adding %d unrelated Secrets of %d KiB", b.cfg.UnrelatedSecrets, b.cfg.UnrelatedSecretBytes>>10))
	growth, err := b.memoryGrowth(ctx)
	if err != nil {
		return nil, err
	}
	return ssmResults(b.cfg, b.work, creation, cycle, restart, growth), nil
}

// creationWave creates every SsmConfig at once and waits until all are Ready.
func (b *ssmBench) creationWave(ctx context.Context) (wave, error) {
	calls0, counts0 := snapshotCalls(b.bed.Emulator), b.observer.snapshot()
	start := time.Now()
	if err := createAll(ctx, b.k8s, b.work.configs); err != nil {
		return wave{}, err
	}
	creating := time.Since(start)
	n := len(b.work.configs)
	err := waitFor(ctx, b.op, waveTimeout, "every SsmConfig to be Ready", func() (bool, error) {
		ready, _ := b.observer.ready()
		return ready == n, nil
	})
	if err != nil {
		return wave{}, err
	}
	_, last := b.observer.ready()
	w := wave{
		duration: last.Sub(start),
		calls:    snapshotCalls(b.bed.Emulator).minus(calls0),
		counts:   b.observer.snapshot().minus(counts0),
		creating: creating,
	}
	return w, sleep(ctx, settle)
}

// refreshCycle watches one refresh interval plus its jitter: every SsmConfig refreshes at least
// once in it, on its own schedule.
func (b *ssmBench) refreshCycle(ctx context.Context) (refreshCycle, error) {
	window := b.cfg.RefreshInterval.value() * 11 / 10
	reconciles0, err := b.op.reconciles(ctx, ssmController)
	if err != nil {
		return refreshCycle{}, err
	}
	calls0, counts0 := snapshotCalls(b.bed.Emulator), b.observer.snapshot()
	start := time.Now()
	err = waitFor(ctx, b.op, window+time.Minute, "the end of the refresh cycle", func() (bool, error) {
		return time.Since(start) >= window, nil
	})
	if err != nil {
		return refreshCycle{}, err
	}
	// Every reconcile in the window is a refresh: nothing else changes, so nothing else triggers one.
	reconciles, err := b.op.reconciles(ctx, ssmController)
	return refreshCycle{
		window:    time.Since(start),
		calls:     snapshotCalls(b.bed.Emulator).minus(calls0),
		counts:    b.observer.snapshot().minus(counts0),
		refreshes: reconciles - reconciles0,
	}, err
}

// ssmController is the SsmConfig controller's name in the operator's metrics.
const ssmController = "ssmconfig"

// restartWave restarts the operator and waits until it has read every SsmConfig from SSM again.
// A refresh that finds nothing new writes nothing, so its end is seen in the operator's metrics.
func (b *ssmBench) restartWave(ctx context.Context) (wave, error) {
	err := b.op.stop()
	b.op = nil
	if err != nil {
		return wave{}, err
	}
	calls0, counts0 := snapshotCalls(b.bed.Emulator), b.observer.snapshot()
	start := time.Now()
	if b.op, err = b.launcher.start(); err != nil {
		return wave{}, err
	}
	n, reconciles := len(b.work.configs), 0
	err = waitFor(ctx, b.op, waveTimeout, "every SsmConfig to sync after the restart", func() (bool, error) {
		var scrapeErr error
		reconciles, scrapeErr = b.op.reconciles(ctx, ssmController)
		// Until the metrics endpoint is up there is nothing to read.
		return scrapeErr == nil && reconciles >= n, nil
	})
	if err != nil {
		return wave{}, err
	}
	w := wave{
		duration:  time.Since(start),
		calls:     snapshotCalls(b.bed.Emulator).minus(calls0),
		counts:    b.observer.snapshot().minus(counts0),
		refreshes: reconciles,
	}
	return w, sleep(ctx, settle)
}

// memoryGrowth reads the operator's memory, adds the unrelated Secrets, reads it again, then
// restarts the operator so that a process that starts among those Secrets is measured too.
func (b *ssmBench) memoryGrowth(ctx context.Context) (memoryGrowth, error) {
	g := memoryGrowth{secrets: b.cfg.UnrelatedSecrets}
	var err error
	if g.without, err = b.op.memory(); err != nil {
		return g, err
	}
	start := time.Now()
	if err := b.addUnrelatedSecrets(ctx); err != nil {
		return g, err
	}
	g.adding = time.Since(start)
	if err := sleep(ctx, settle); err != nil {
		return g, err
	}
	if g.with, err = b.op.memory(); err != nil {
		return g, err
	}
	step("scenario 4: restarting the operator among the unrelated Secrets")
	if g.restart, err = b.restartWave(ctx); err != nil {
		return g, err
	}
	g.freshWith, err = b.op.memory()
	return g, err
}

// addUnrelatedSecrets creates unlabelled Secrets next to the managed ones, as the rest of a
// cluster's workloads would have them. They share one random payload: size, not content, matters.
func (b *ssmBench) addUnrelatedSecrets(ctx context.Context) error {
	payload := make([]byte, b.cfg.UnrelatedSecretBytes)
	_, _ = rand.Read(payload)
	namespaces := b.work.namespaces
	return parallel(ctx, b.cfg.UnrelatedSecrets, func(ctx context.Context, i int) error {
		return b.k8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unrelated-%05d", i), Namespace: namespaces[i%len(namespaces)]},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{"payload": payload},
		})
	})
}

// operatorArgs configures the operator as a deployment for this account would be.
func operatorArgs(cfg *config) []string {
	return []string{
		"--cluster-name=bench",
		fmt.Sprintf("--ssm-rate-limit=%g", cfg.SSMRateLimit),
		fmt.Sprintf("--ssm-rate-burst=%d", cfg.SSMRateBurst),
		fmt.Sprintf("--ssm-concurrency=%d", cfg.SSMConcurrency),
		fmt.Sprintf("--iam-rate-limit=%g", cfg.IAMQuota),
		fmt.Sprintf("--iam-rate-burst=%d", cfg.IAMRateBurst),
		"--iam-resync-period=" + cfg.IAMResyncPeriod.String(),
	}
}
