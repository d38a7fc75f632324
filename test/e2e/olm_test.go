package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	operatorsv1 "github.com/operator-framework/api/pkg/operators/v1"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

const (
	installTimeout = 3 * time.Minute
	// catalogServerName names every opm serve process: one serves at a time.
	catalogServerName = "opm-serve"
)

func bundleName(version string) string { return packageName + ".v" + version }

// testInstall installs the committed catalog's default channel the way users do and checks what OLM
// made of it.
func (s *suite) testInstall(t *testing.T) {
	if err := s.serveCatalog(t, committedCatalog()); err != nil {
		t.Fatal(err)
	}
	s.create(t, &operatorsv1alpha1.CatalogSource{
		ObjectMeta: metav1.ObjectMeta{Name: catalogSourceName, Namespace: olmNamespace},
		Spec: operatorsv1alpha1.CatalogSourceSpec{
			SourceType: operatorsv1alpha1.SourceTypeGrpc, Address: s.catalogAddress(),
			DisplayName: "k8s-aws-operator (e2e)", Publisher: "605.tv",
		},
	})
	s.eventually(t, time.Minute, "OLM to connect to the catalog", s.catalogSourceReady)
	// No target namespaces: the operator's only install mode, AllNamespaces.
	s.create(t, &operatorsv1.OperatorGroup{ObjectMeta: metav1.ObjectMeta{Name: "global-operators", Namespace: installNamespace}})
	s.create(t, &operatorsv1alpha1.Subscription{
		ObjectMeta: metav1.ObjectMeta{Name: packageName, Namespace: installNamespace},
		Spec: &operatorsv1alpha1.SubscriptionSpec{
			CatalogSource: catalogSourceName, CatalogSourceNamespace: olmNamespace, Package: packageName,
			Channel: s.releases.channel, InstallPlanApproval: operatorsv1alpha1.ApprovalAutomatic,
			Config: &operatorsv1alpha1.SubscriptionConfig{Env: []corev1.EnvVar{{Name: "K8S_AWS_OPERATOR_CLUSTER_NAME", Value: clusterName}}},
		},
	})
	csv := s.waitInstalled(t, bundleName(s.releases.first))
	s.eventually(t, time.Minute, "the CRD "+crdName+" to be established", s.crdEstablished)
	s.eventually(t, time.Minute, "OLM's RBAC for the operator's ServiceAccount", func(ctx context.Context) error {
		return s.rbacBound(ctx, csv)
	})
}

func (s *suite) catalogAddress() string {
	return "127.0.0.1:" + strconv.Itoa(s.catalogPort)
}

// serveCatalog (re)starts opm serve on the catalog folder, always on the same loopback port, the
// address the CatalogSource names; OLM reconnects and reads the new content. It returns opm's own
// diagnosis when opm refuses the catalog.
func (s *suite) serveCatalog(t *testing.T, catalog string) error {
	served, err := s.withoutBundleImages(catalog)
	if err != nil {
		return err
	}
	if old := s.running[catalogServerName]; old != nil {
		s.stopProcess(old)
	}
	if s.catalogPort == 0 {
		port, err := testbed.FreePort()
		if err != nil {
			return err
		}
		s.catalogPort = port
	}
	// No pprof endpoint; the termination log in the suite's folder, not /dev.
	p := s.startProcess(t, catalogServerName, s.command(s.tools.opm, "serve", served, "--port", strconv.Itoa(s.catalogPort),
		"--pprof-addr=", "--termination-log", filepath.Join(s.dir, "opm-termination.log")))
	err = s.waitFor(time.Minute, func(ctx context.Context) error {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.catalogAddress())
		if err != nil {
			return err
		}
		return conn.Close()
	})
	if err != nil {
		s.stopProcess(p)
		return fmt.Errorf("serving the catalog %s with opm: %w", catalog, err)
	}
	return nil
}

// withoutBundleImages copies the catalog without its bundles' image references. OLM unpacks a bundle
// that has an image with a Job that runs the image, which nothing here can run (no container runtime);
// a bundle without one it installs from the manifests the catalog itself holds: the olm.bundle.object
// properties opm rendered from the same bundle directory.
func (s *suite) withoutBundleImages(catalog string) (string, error) {
	served := filepath.Join(s.dir, "served", filepath.Base(catalog))
	err := filepath.WalkDir(catalog, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		rel, err := filepath.Rel(catalog, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if data, err = dropBundleImages(data); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		target := filepath.Join(served, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	return served, err
}

// dropBundleImages rewrites a catalog file's blobs, olm.bundle blobs without their image.
func dropBundleImages(data []byte) ([]byte, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out bytes.Buffer
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		var blob map[string]any
		if err := yaml.Unmarshal(doc, &blob); err != nil {
			return nil, err
		}
		if len(blob) == 0 {
			continue
		}
		if blob["schema"] == "olm.bundle" {
			delete(blob, "image")
		}
		rewritten, err := yaml.Marshal(blob)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(rewritten)
	}
}

func (s *suite) catalogSourceReady(ctx context.Context) error {
	source := &operatorsv1alpha1.CatalogSource{}
	if err := s.admin.Get(ctx, client.ObjectKey{Namespace: olmNamespace, Name: catalogSourceName}, source); err != nil {
		return err
	}
	if state := source.Status.GRPCConnectionState; state == nil || state.LastObservedState != "READY" {
		return fmt.Errorf("CatalogSource %s: connection state %+v, %s", catalogSourceName, state, source.Status.Message)
	}
	return nil
}

// waitInstalled waits until the Subscription has installed the CSV through a completed InstallPlan and
// the CSV has Succeeded; it fails with where the chain stopped.
func (s *suite) waitInstalled(t *testing.T, csvName string) *operatorsv1alpha1.ClusterServiceVersion {
	t.Helper()
	csv := &operatorsv1alpha1.ClusterServiceVersion{}
	s.eventually(t, installTimeout, "OLM to install "+csvName, func(ctx context.Context) error {
		return s.installed(ctx, csvName, csv)
	})
	return csv
}

func (s *suite) installed(ctx context.Context, csvName string, csv *operatorsv1alpha1.ClusterServiceVersion) error {
	sub := &operatorsv1alpha1.Subscription{}
	if err := s.admin.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: packageName}, sub); err != nil {
		return err
	}
	if sub.Status.CurrentCSV != csvName || sub.Status.InstallPlanRef == nil {
		return fmt.Errorf("Subscription: state %q, current CSV %q, installed %q; %s",
			sub.Status.State, sub.Status.CurrentCSV, sub.Status.InstalledCSV, subscriptionConditions(sub))
	}
	plan := &operatorsv1alpha1.InstallPlan{}
	if err := s.admin.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: sub.Status.InstallPlanRef.Name}, plan); err != nil {
		return err
	}
	if plan.Status.Phase != operatorsv1alpha1.InstallPlanPhaseComplete {
		return fmt.Errorf("InstallPlan %s: phase %q; %s", plan.Name, plan.Status.Phase, installPlanConditions(plan))
	}
	if err := s.admin.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: csvName}, csv); err != nil {
		return err
	}
	if csv.Status.Phase != operatorsv1alpha1.CSVPhaseSucceeded {
		return fmt.Errorf("CSV %s: phase %q (%s: %s); %s", csvName, csv.Status.Phase, csv.Status.Reason, csv.Status.Message,
			s.deploymentStatus(ctx))
	}
	if sub.Status.InstalledCSV != csvName {
		return fmt.Errorf("Subscription: installed CSV %q, not %s", sub.Status.InstalledCSV, csvName)
	}
	return nil
}

func subscriptionConditions(sub *operatorsv1alpha1.Subscription) string {
	var out []string
	for _, c := range sub.Status.Conditions {
		out = append(out, fmt.Sprintf("%s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
	}
	return "conditions: " + strings.Join(out, "; ")
}

func installPlanConditions(plan *operatorsv1alpha1.InstallPlan) string {
	var out []string
	for _, c := range plan.Status.Conditions {
		out = append(out, fmt.Sprintf("%s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
	}
	return "conditions: " + strings.Join(out, "; ")
}

// deploymentStatus tells how far the operator's Deployment is: what a CSV waits for.
func (s *suite) deploymentStatus(ctx context.Context) string {
	deployment := &appsv1.Deployment{}
	if err := s.admin.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: operatorName}, deployment); err != nil {
		return "Deployment: " + err.Error()
	}
	pods := &corev1.PodList{}
	if err := s.admin.List(ctx, pods, client.InNamespace(installNamespace)); err != nil {
		return "pods: " + err.Error()
	}
	status := fmt.Sprintf("Deployment %s: %d/%d available, %d updated", operatorName,
		deployment.Status.AvailableReplicas, deployment.Status.Replicas, deployment.Status.UpdatedReplicas)
	for _, pod := range pods.Items {
		status += fmt.Sprintf("; pod %s on node %q: %s", pod.Name, pod.Spec.NodeName, pod.Status.Phase)
	}
	return status
}

func (s *suite) crdEstablished(ctx context.Context) error {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := s.admin.Get(ctx, client.ObjectKey{Name: crdName}, crd); err != nil {
		return err
	}
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return nil
		}
	}
	return fmt.Errorf("CRD %s is not Established: %+v", crdName, crd.Status.Conditions)
}

// csvGone is nil once OLM has removed the CSV.
func (s *suite) csvGone(csvName string) func(context.Context) error {
	return func(ctx context.Context) error {
		csv := &operatorsv1alpha1.ClusterServiceVersion{}
		err := s.admin.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: csvName}, csv)
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return err
		}
		return fmt.Errorf("CSV %s is still there: phase %q (%s: %s)", csvName, csv.Status.Phase, csv.Status.Reason, csv.Status.Message)
	}
}
