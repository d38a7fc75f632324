package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	operatorsv1 "github.com/operator-framework/api/pkg/operators/v1"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

const (
	// kwokNodeAnnotation marks the nodes kwok manages.
	kwokNodeAnnotation = "kwok.x-k8s.io/node"
	kwokNodeName       = "kwok-node"
	// processStopGrace is how long a process may take to stop after SIGTERM (the operator's
	// graceful shutdown is 30 s by default).
	processStopGrace = 40 * time.Second
	logTailLines     = 40
)

// suite is one run of the lifecycle: a control plane and the processes around it.
type suite struct {
	// t is the whole test: processes started in one step outlive it.
	t     *testing.T
	tools tools
	// dir holds kubeconfigs, catalogs, bundles and every process's log.
	dir   string
	bed   *testbed.Bed
	admin client.Client
	// kubeconfig is the admin kubeconfig of the cluster components and OLM.
	kubeconfig string
	// manager is the operator binary.
	manager string
	// catalogPort is where opm serves the catalog, on loopback.
	catalogPort int
	releases    releases
	// running are the processes that must not exit, by name.
	running map[string]*testbed.Process
	logs    []string
}

func startSuite(t *testing.T, tl tools) *suite {
	s := &suite{t: t, tools: tl, dir: t.TempDir(), running: map[string]*testbed.Process{}}
	// The suite's clients log nothing worth reading; the processes log to their files.
	log.SetLogger(logr.Discard())
	// Registered first, so it runs last: after every process has stopped and written its log.
	t.Cleanup(s.printLogsIfFailed)
	s.startControlPlane()
	s.startNodeSimulation()
	s.startOLM()
	binary, err := testbed.BuildOperator(context.Background(), s.dir)
	if err != nil {
		t.Fatal(err)
	}
	s.manager = binary
	return s
}

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme,
		operatorsv1alpha1.AddToScheme, operatorsv1.AddToScheme, ssmv1alpha1.AddToScheme,
	} {
		utilruntime.Must(add(scheme))
	}
	return scheme
}

// startControlPlane starts kube-apiserver and etcd with OLM's CRDs only (OLM installs ours from the
// bundle), and the AWS emulator playing the seed's account.
func (s *suite) startControlPlane() {
	cp, err := testbed.StartControlPlaneWithCRDs(s.tools.olmCRDs)
	if err != nil {
		s.t.Fatal(err)
	}
	bed, err := testbed.StartOn(cp, awsemu.Options{AccountID: seedAccount})
	if err != nil {
		_ = cp.Stop()
		s.t.Fatal(err)
	}
	s.bed = bed
	s.t.Cleanup(func() {
		if err := bed.Stop(); err != nil {
			s.t.Errorf("stopping the control plane: %v", err)
		}
	})
	if s.admin, err = client.New(cp.Config, client.Options{Scheme: newScheme()}); err != nil {
		s.t.Fatal(err)
	}
	s.kubeconfig = filepath.Join(s.dir, "admin.kubeconfig")
	if err := bed.WriteKubeconfig(s.kubeconfig); err != nil {
		s.t.Fatal(err)
	}
}

// startNodeSimulation starts what turns a Deployment into Running, Ready pods without a kubelet or a
// container runtime: kube-controller-manager's deployment and replica-set controllers (and the
// garbage collector, which removes what an old CSV owned, and the node lifecycle controller, which
// lifts the not-ready taint every new Node gets), kube-scheduler, and kwok with one fake node whose
// pods it reports Running and Ready.
func (s *suite) startNodeSimulation() {
	s.startProcess(s.t, "kube-controller-manager", s.command(s.tools.kubeControllerManager,
		"--kubeconfig="+s.kubeconfig, "--leader-elect=false", "--secure-port=0",
		"--controllers=deployment-controller,replicaset-controller,garbage-collector-controller,node-lifecycle-controller"))
	s.startProcess(s.t, "kube-scheduler", s.command(s.tools.kubeScheduler,
		"--kubeconfig="+s.kubeconfig, "--leader-elect=false", "--secure-port=0"))
	// Every address kwok reports (node, pod IPs) is on loopback too; no server (no --server-address).
	s.startProcess(s.t, "kwok", s.command(s.tools.kwok,
		"--kubeconfig="+s.kubeconfig, "--config="+s.tools.kwokStages,
		"--manage-nodes-with-annotation-selector="+kwokNodeAnnotation+"=fake",
		"--node-lease-duration-seconds=40", "--node-ip=127.0.0.1", "--cidr=127.0.1.0/24"))

	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:        kwokNodeName,
		Annotations: map[string]string{kwokNodeAnnotation: "fake"},
		Labels:      map[string]string{"kubernetes.io/hostname": kwokNodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"},
	}}
	s.create(s.t, node)
	s.eventually(s.t, time.Minute, "the kwok node to be Ready and schedulable", s.nodeSchedulable)
}

func (s *suite) nodeSchedulable(ctx context.Context) error {
	node := &corev1.Node{}
	if err := s.admin.Get(ctx, client.ObjectKey{Name: kwokNodeName}, node); err != nil {
		return err
	}
	ready := false
	for _, c := range node.Status.Conditions {
		ready = ready || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue)
	}
	if !ready {
		return fmt.Errorf("node %s is not Ready (kwok marks it)", kwokNodeName)
	}
	if len(node.Spec.Taints) > 0 {
		return fmt.Errorf("node %s is tainted %v (the node lifecycle controller lifts the not-ready taint)", kwokNodeName, node.Spec.Taints)
	}
	return nil
}

// startOLM starts OLM's olm and catalog operators in their namespace, as its deployment does.
// Both serve health and metrics on the fixed ":8080"; the second one to start logs that the port is
// taken and carries on: the suite does not use those endpoints.
func (s *suite) startOLM() {
	for _, ns := range []string{olmNamespace, installNamespace} {
		s.create(s.t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	s.startProcess(s.t, "olm", s.command(s.tools.olm, "--namespace="+olmNamespace))
	s.startProcess(s.t, "olm-catalog", s.command(s.tools.olmCatalog, "--namespace="+olmNamespace, "--kubeconfig="+s.kubeconfig))
}

// command runs a tool with a minimal environment: the admin kubeconfig, and HOME and TMPDIR in the
// suite's folder, so that no user configuration (~/.kube, ~/.kwok) is read and nothing a tool leaves
// behind (opm's cache when it exits on a bad catalog) outlives the test.
func (s *suite) command(binary string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"HOME=" + s.dir, "TMPDIR=" + s.dir, "PATH=" + os.Getenv("PATH"), "KUBECONFIG=" + s.kubeconfig}
	return cmd
}

// startProcess starts cmd with its log in the suite's folder, and stops it when the whole test ends
// (t is the step that starts it). Until it is stopped, its exit fails every wait of the suite.
func (s *suite) startProcess(t *testing.T, name string, cmd *exec.Cmd) *testbed.Process {
	log := filepath.Join(s.dir, fmt.Sprintf("%02d-%s.log", len(s.logs), name))
	p, err := testbed.StartProcess(name, log, cmd)
	if err != nil {
		t.Fatal(err)
	}
	s.logs = append(s.logs, log)
	s.running[name] = p
	s.t.Cleanup(func() { s.stopProcess(p) })
	return p
}

// stopProcess stops p if it is still running, and no longer expects it to run.
func (s *suite) stopProcess(p *testbed.Process) {
	if s.running[p.Name] == p {
		delete(s.running, p.Name)
	}
	if exited, _ := p.Exited(); exited {
		return
	}
	if err := p.Stop(processStopGrace); err != nil {
		s.t.Log(err)
	}
}

// exitedProcess is an error naming a process that has exited although the suite still needs it.
func (s *suite) exitedProcess() error {
	for name, p := range s.running {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("%s exited (%v); the end of its log:\n%s", name, err, tail(p.LogPath, logTailLines))
		}
	}
	return nil
}

func (s *suite) printLogsIfFailed() {
	if !s.t.Failed() {
		return
	}
	for _, log := range s.logs {
		s.t.Logf("--- the end of %s ---\n%s", filepath.Base(log), tail(log, logTailLines))
	}
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (s *suite) create(t *testing.T, obj client.Object) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.admin.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
	}
}

// eventually polls check until it returns nil, and fails the test with check's last error (its
// diagnosis) after timeout, or at once when a process the suite needs has exited.
func (s *suite) eventually(t *testing.T, timeout time.Duration, what string, check func(context.Context) error) {
	t.Helper()
	if err := s.waitFor(timeout, check); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func (s *suite) waitFor(timeout time.Duration, check func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		if err := s.exitedProcess(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err := check(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %w", timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
