package olm

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

// TestBundleOnAPIServer installs what OLM would create from the bundle into a real kube-apiserver
// (envtest; no OLM, no scheduler): the CRD, the operator's namespace with the "restricted" Pod
// Security Standard enforced, its ServiceAccount, roles from the CSV's permissions, the other bundle
// objects, the CSV's Deployment and a Pod from its template, and the alm-examples. Every object is
// created with strict field validation, so an unknown field fails, and the Pod is admitted only if
// it meets "restricted". Any API warning fails the test.
func TestBundleOnAPIServer(t *testing.T) {
	cfg := startAPIServer(t)
	warnings := &warningCollector{}
	cfg.WarningHandler = warnings
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	create := func(obj *unstructured.Unstructured) {
		t.Helper()
		err := c.Create(ctx, obj, client.FieldValidation("Strict"))
		if err != nil {
			t.Errorf("creating %s %s/%s: %v", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
		}
	}
	newObj := func(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind(kind)
		u.SetNamespace(namespace)
		u.SetName(name)
		return u
	}

	bundle := loadBundle(t)
	const ns = "k8s-aws-operator-system"
	namespace := newObj("v1", "Namespace", "", ns)
	namespace.SetLabels(map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
		"pod-security.kubernetes.io/audit":   "restricted",
	})
	create(namespace)
	create(newObj("v1", "ServiceAccount", ns, operatorSA))

	// The CSV, as OLM reads it.
	var csv *unstructured.Unstructured
	for _, obj := range bundle.Objects {
		switch obj.GetKind() {
		case "ClusterServiceVersion":
			csv = obj
		case "CustomResourceDefinition": // installed by envtest
		default:
			o := obj.DeepCopy()
			if o.GetKind() == "Service" || o.GetKind() == "Role" {
				o.SetNamespace(ns)
			}
			create(o)
		}
	}
	install, _, _ := unstructured.NestedMap(csv.Object, "spec", "install", "spec")
	for field, kind := range map[string]string{"clusterPermissions": "ClusterRole", "permissions": "Role"} {
		perms, _, _ := unstructured.NestedSlice(install, field)
		for i, p := range perms {
			role := newObj("rbac.authorization.k8s.io/v1", kind, "", "csv-"+field+"-"+strconv.Itoa(i))
			if kind == "Role" {
				role.SetNamespace(ns)
			}
			role.Object["rules"] = p.(map[string]any)["rules"]
			create(role)
		}
	}
	deployments, _, _ := unstructured.NestedSlice(install, "deployments")
	if len(deployments) != 1 {
		t.Fatalf("want one deployment in the CSV, got %d", len(deployments))
	}
	d := deployments[0].(map[string]any)
	deployment := newObj("apps/v1", "Deployment", ns, d["name"].(string))
	deployment.Object["spec"] = d["spec"]
	create(deployment)

	template, _, _ := unstructured.NestedMap(d, "spec", "template")
	pod := newObj("v1", "Pod", ns, "manager-from-template")
	if labels, ok, _ := unstructured.NestedStringMap(template, "metadata", "labels"); ok {
		pod.SetLabels(labels)
	}
	pod.Object["spec"] = template["spec"]
	create(pod) // rejected by Pod Security admission unless the template is "restricted"

	var examples []map[string]any
	if err := json.Unmarshal([]byte(csv.GetAnnotations()["alm-examples"]), &examples); err != nil {
		t.Fatal(err)
	}
	for _, e := range examples {
		example := &unstructured.Unstructured{Object: e}
		if example.GetNamespace() != "" {
			create(newObj("v1", "Namespace", "", example.GetNamespace()))
		}
		create(example)
	}

	for _, w := range warnings.list() {
		t.Errorf("API warning: %s", w)
	}
}

type warningCollector struct {
	mu       sync.Mutex
	warnings []string
}

func (w *warningCollector) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.warnings = append(w.warnings, text)
}

func (w *warningCollector) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.warnings...)
}

// startAPIServer starts kube-apiserver + etcd with the bundle's CRD through the shared test bed,
// which stops them when the test ends, and also if the test binary dies.
func startAPIServer(t *testing.T) *rest.Config {
	t.Helper()
	if _, err := testbed.AssetsDir(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err.Error() + " (CI=true: not skipping)")
		}
		t.Skip(err.Error())
	}
	cp, err := testbed.StartControlPlaneWithCRDs(inRepo(t, "bundle", "manifests", "ssm.aws.605.tv_ssmconfigs.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
	})
	return cp.Config
}
