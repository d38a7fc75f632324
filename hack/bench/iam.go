package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	corecontroller "github.com/605-tv/k8s-aws-operator/controllers/core"
	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

// iamController is the ServiceAccount controller's name in the operator's metrics.
const iamController = "serviceaccount-iam"

// readsPerInSyncRole is what comparing one role with its ServiceAccount needs at least: GetRole
// (trust policy, boundary, tags) and ListAttachedRolePolicies.
const readsPerInSyncRole = 2

// attachablePolicies are AWS managed policies the roles get, in turn.
var attachablePolicies = []string{
	"AmazonS3ReadOnlyAccess", "AmazonSSMReadOnlyAccess", "AmazonDynamoDBReadOnlyAccess", "AmazonSQSReadOnlyAccess",
	"AmazonSNSReadOnlyAccess", "CloudWatchReadOnlyAccess", "AmazonEC2ReadOnlyAccess", "AWSLambda_ReadOnlyAccess",
}

// iamConvergence is the creation of every ServiceAccount until each carries its role ARN.
type iamConvergence struct {
	duration time.Duration
	calls    calls
}

// iamResync is a window in which every role was compared with its ServiceAccount on the periodic resync.
type iamResync struct {
	window     time.Duration
	calls      calls
	counts     iamCounts
	reconciles int
}

func runIAM(ctx context.Context, cfg *config, binary string) ([]result, error) {
	step("IAM scenario 5: starting kube-apiserver + etcd and the AWS emulator")
	bed, err := testbed.StartWith(awsemu.Options{})
	if err != nil {
		return nil, err
	}
	defer stopBed(bed)
	// Ends the watches before the control plane stops (deferred calls run last-in, first-out).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	k8s, err := fastClient(bed)
	if err != nil {
		return nil, err
	}
	accounts, namespaces := serviceAccounts(cfg)
	if err := prepareIAM(ctx, cfg, bed, k8s, namespaces); err != nil {
		return nil, err
	}
	observer, err := startIAMObserver(ctx, bed.ControlPlane.Config)
	if err != nil {
		return nil, err
	}
	launcher, err := newOperatorLauncher(bed, binary, cfg.Dir, "iam", operatorArgs(cfg))
	if err != nil {
		return nil, err
	}
	op, err := launcher.start()
	if err != nil {
		return nil, err
	}
	defer stopOperator(op)

	step(fmt.Sprintf("scenario 5: creating %d annotated ServiceAccounts at once (IAM quota %g/s)", len(accounts), cfg.IAMQuota))
	converged, err := convergeIAM(ctx, bed, k8s, op, observer, accounts)
	if err != nil {
		return nil, err
	}
	step(fmt.Sprintf("scenario 5: one periodic resync of all (--iam-resync-period %s, jittered)", cfg.IAMResyncPeriod))
	resync, err := resyncIAM(ctx, cfg, bed, op, observer, len(accounts))
	if err != nil {
		return nil, err
	}
	return iamResults(cfg, len(accounts), converged, resync), nil
}

// prepareIAM sets the account's IAM quota and latency and creates the namespaces.
func prepareIAM(ctx context.Context, cfg *config, bed *testbed.Bed, k8s client.Client, namespaces []string) error {
	if err := bed.Emulator.SetRateLimit(awsemu.ServiceIAM, nil, cfg.IAMQuota, int(cfg.IAMQuota)); err != nil {
		return err
	}
	if err := bed.Emulator.SetLatency(awsemu.ServiceIAM, cfg.IAMLatency.value()); err != nil {
		return err
	}
	return createNamespaces(ctx, k8s, namespaces)
}

// serviceAccounts are the IAM workload: ServiceAccounts selected for a role, each with a few
// managed policies, spread over namespaces.
func serviceAccounts(cfg *config) ([]*corev1.ServiceAccount, []string) {
	accounts := make([]*corev1.ServiceAccount, cfg.ServiceAccounts)
	for i := range accounts {
		policies := make([]string, cfg.PoliciesPerSA)
		for j := range policies {
			policies[j] = "arn:aws:iam::aws:policy/" + attachablePolicies[(i+j)%len(attachablePolicies)]
		}
		accounts[i] = &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
			Name:        fmt.Sprintf("app-%05d", i),
			Namespace:   namespaceOf(iamNamespacePrefix, i),
			Labels:      map[string]string{corecontroller.SelectorLabel: corecontroller.SelectorValue},
			Annotations: map[string]string{corecontroller.PoliciesAnnotation: strings.Join(policies, ",\n")},
		}}
	}
	return accounts, namespacesOf(iamNamespacePrefix, len(accounts))
}

const iamNamespacePrefix = "iam"

// convergeIAM creates every ServiceAccount at once and waits until each carries its role ARN.
func convergeIAM(ctx context.Context, bed *testbed.Bed, k8s client.Client, op *runningOperator, o *iamObserver,
	accounts []*corev1.ServiceAccount,
) (iamConvergence, error) {
	calls0 := snapshotCalls(bed.Emulator)
	start := time.Now()
	if err := createAll(ctx, k8s, accounts); err != nil {
		return iamConvergence{}, err
	}
	err := waitFor(ctx, op, waveTimeout, "every ServiceAccount to get its role", func() (bool, error) {
		annotated, _ := o.annotated()
		return annotated == len(accounts), nil
	})
	if err != nil {
		return iamConvergence{}, err
	}
	_, last := o.annotated()
	c := iamConvergence{duration: last.Sub(start), calls: snapshotCalls(bed.Emulator).minus(calls0)}
	return c, sleep(ctx, settle)
}

// resyncIAM waits until the operator has reconciled as many in-sync ServiceAccounts as there are
// on its periodic resync, and counts the IAM calls that cost.
func resyncIAM(ctx context.Context, cfg *config, bed *testbed.Bed, op *runningOperator, o *iamObserver, n int) (iamResync, error) {
	reconciles0, err := op.reconciles(ctx, iamController)
	if err != nil {
		return iamResync{}, err
	}
	calls0, counts0 := snapshotCalls(bed.Emulator), o.snapshot()
	start := time.Now()
	reconciles := reconciles0
	timeout := cfg.IAMResyncPeriod.value()*11/10 + waveTimeout
	err = waitFor(ctx, op, timeout, "a resync of every ServiceAccount", func() (bool, error) {
		var scrapeErr error
		reconciles, scrapeErr = op.reconciles(ctx, iamController)
		return reconciles-reconciles0 >= n, scrapeErr
	})
	return iamResync{
		window:     time.Since(start),
		calls:      snapshotCalls(bed.Emulator).minus(calls0),
		counts:     o.snapshot().minus(counts0),
		reconciles: reconciles - reconciles0,
	}, err
}

func iamResults(cfg *config, n int, converged iamConvergence, resync iamResync) []result {
	calls := converged.calls.sum(iamCalls)
	throttles := converged.calls.sum(throttledOnes(iamCalls))
	// Creating a role takes GetRole, CreateRole and one AttachRolePolicy per policy; the OIDC
	// provider is looked up once.
	needed := (2+cfg.PoliciesPerSA)*n + 1
	perReconcile := func(k int) float64 { return float64(k) / float64(max(resync.reconciles, 1)) * float64(n) }
	window := fmt.Sprintf("%d reconciles in %s, scaled to %d", resync.reconciles, resync.window.Round(timeUnit), n)
	return []result{
		measured("5", fmt.Sprintf("convergence of %d ServiceAccounts created at once", n), "s", inSeconds(converged.duration),
			float64(calls)/cfg.IAMQuota, withTarget(convergenceTarget),
			fmt.Sprintf("%d IAM calls / %g per s (%s; at least %d needed); %d throttled",
				calls, cfg.IAMQuota, converged.calls.byOperation(iamCalls), needed, throttles)),
		measured("5", "IAM read calls per resync of all (in sync)", "calls", perReconcile(resync.calls.sum(iamReads)),
			float64(readsPerInSyncRole*n), nil, window),
		measured("5", "IAM write calls per resync of all (in sync)", "calls", perReconcile(resync.calls.sum(iamWrites)), 0,
			withTarget(zeroTarget), fmt.Sprintf("ServiceAccount writes %d, Events %d", resync.counts.ServiceAccountWrites, resync.counts.Events)),
	}
}

// iamCounts are cumulative tallies of what the operator wrote to Kubernetes.
type iamCounts struct {
	ServiceAccountWrites int
	Events               int
}

func (c iamCounts) minus(earlier iamCounts) iamCounts {
	return iamCounts{ServiceAccountWrites: c.ServiceAccountWrites - earlier.ServiceAccountWrites, Events: c.Events - earlier.Events}
}

// iamObserver watches ServiceAccounts and their Events.
type iamObserver struct {
	mu sync.Mutex
	// annotatedAt is when each ServiceAccount was first seen with its role ARN.
	annotatedAt map[types.NamespacedName]time.Time
	counts      iamCounts
}

func startIAMObserver(ctx context.Context, restCfg *rest.Config) (*iamObserver, error) {
	o := &iamObserver{annotatedAt: map[types.NamespacedName]time.Time{}}
	return o, watchChanges(ctx, restCfg, nil, map[client.Object]changeHandler{
		&corev1.ServiceAccount{}: o.onServiceAccount,
		&eventsv1.Event{}:        o.onEvent,
	})
}

func (o *iamObserver) onServiceAccount(old, current client.Object) {
	if current == nil {
		return
	}
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if old != nil {
		o.counts.ServiceAccountWrites++
	}
	key := client.ObjectKeyFromObject(current)
	if _, seen := o.annotatedAt[key]; !seen && current.GetAnnotations()[corecontroller.RoleARNAnnotation] != "" {
		o.annotatedAt[key] = now
	}
}

func (o *iamObserver) onEvent(_, current client.Object) {
	if event, ok := current.(*eventsv1.Event); !ok || event.Regarding.Kind != "ServiceAccount" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts.Events++
}

func (o *iamObserver) snapshot() iamCounts {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts
}

// annotated reports how many ServiceAccounts carry their role ARN, and when the last got it.
func (o *iamObserver) annotated() (n int, last time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, at := range o.annotatedAt {
		last = latest(last, at)
	}
	return len(o.annotatedAt), last
}
