// Package e2e is the OLM end-to-end suite (`make e2e-olm`). OLM itself (its olm and catalog operators)
// installs the operator from our file-based catalog onto a local control plane that makes Deployments
// available without a container runtime (kube-apiserver, etcd, kube-controller-manager, kube-scheduler
// and kwok); the operator binary then runs with the identity OLM gave it, against the AWS emulator;
// and OLM upgrades it through the channel. It runs only with E2E_OLM=1 and the tool paths the make
// target passes.
package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blang/semver/v4"

	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

const (
	packageName = "k8s-aws-operator"
	// olmNamespace is OLM's own namespace and its global catalog namespace.
	olmNamespace = "olm"
	// installNamespace holds the operator, installed for all namespaces.
	installNamespace  = "operators"
	catalogSourceName = "k8s-aws-operator-catalog"
	// operatorName names the CSV's ServiceAccount and Deployment.
	operatorName = "k8s-aws-operator-controller-manager"
	crdName      = "ssmconfigs.ssm.aws.605.tv"
	// clusterName is given to the operator the way users do: in the Subscription's spec.config.env.
	clusterName = "e2e"
	// seedAccount owns the seed's policy ARNs, so the emulator plays that account.
	seedAccount = "524458042105"
)

// tools are the programs the make target builds for the suite (kube-apiserver and etcd come from
// KUBEBUILDER_ASSETS, as for every test bed).
type tools struct {
	opm, kubeControllerManager, kubeScheduler, kwok, kwokStages, olm, olmCatalog, olmCRDs string
}

func toolsFromEnv(t *testing.T) tools {
	if os.Getenv("E2E_OLM") != "1" {
		t.Skip("the OLM end-to-end suite runs with `make e2e-olm`, which builds its tools")
	}
	path := func(variable string) string {
		p := os.Getenv(variable)
		if _, err := os.Stat(p); p == "" || err != nil {
			t.Fatalf("%s=%q is not a built tool: run the suite with `make e2e-olm`", variable, p)
		}
		return p
	}
	return tools{
		opm:                   path("OPM"),
		kubeControllerManager: path("KUBE_CONTROLLER_MANAGER"),
		kubeScheduler:         path("KUBE_SCHEDULER"),
		kwok:                  path("KWOK"),
		kwokStages:            path("KWOK_STAGES"),
		olm:                   path("OLM_OLM"),
		olmCatalog:            path("OLM_CATALOG"),
		olmCRDs:               path("OLM_CRDS"),
	}
}

// TestOLMLifecycle walks the path users take: install from the catalog, run, upgrade. Each step
// needs the one before, so the first failing step ends the test.
func TestOLMLifecycle(t *testing.T) {
	s := startSuite(t, toolsFromEnv(t))
	s.releases = plannedReleases(t, committedCatalog())
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"OLM installs the default channel's head from the catalog", s.testInstall},
		{"the operator reconciles the seed with the identity OLM gave it", s.testOperatorReconciles},
		{"the RBAC OLM created is what the controllers use, no more", s.testRBACIsWhatTheControllersUse},
		{"OLM upgrades to the next release through the channel", s.testUpgrade},
		{"a bundle whose RBAC lacks secrets verbs is diagnosed", s.testMissingPermissionDiagnosed},
		{"a channel whose replaces points nowhere is diagnosed", s.testBrokenChannelDiagnosed},
	}
	for _, step := range steps {
		if !t.Run(step.name, step.run) {
			t.FailNow()
		}
	}
}

// releases are the versions the suite goes through: the head of the committed catalog's default
// channel, the next release made from bundle/, and a broken release after that.
type releases struct {
	channel, first, next, broken string
}

func committedCatalog() string { return filepath.Join(testbed.RepoRoot(), "catalog") }

func plannedReleases(t *testing.T, catalog string) releases {
	channel := defaultChannel(t, catalog)
	first, err := semver.Parse(channelHead(t, catalog, channel))
	if err != nil {
		t.Fatalf("the head of channel %s: %v", channel, err)
	}
	next := semver.Version{Major: first.Major, Minor: first.Minor + 1}
	broken := semver.Version{Major: first.Major, Minor: first.Minor + 2}
	return releases{channel: channel, first: first.String(), next: next.String(), broken: broken.String()}
}

// defaultChannel reads the package's default channel from the catalog (package.yaml, where
// hack/olm/catalog writes it).
func defaultChannel(t *testing.T, catalog string) string {
	var pkg struct {
		DefaultChannel string `json:"defaultChannel"`
	}
	readYAML(t, filepath.Join(catalog, packageName, "package.yaml"), &pkg)
	if pkg.DefaultChannel == "" {
		t.Fatal("the catalog's package.yaml has no defaultChannel")
	}
	return pkg.DefaultChannel
}

// channelHead is the version of the channel's head, the entry no other entry replaces (in
// channel-<name>.yaml, where hack/olm/catalog writes it).
func channelHead(t *testing.T, catalog, channel string) string {
	var blob struct {
		Entries []struct {
			Name     string `json:"name"`
			Replaces string `json:"replaces"`
		} `json:"entries"`
	}
	readYAML(t, filepath.Join(catalog, packageName, "channel-"+channel+".yaml"), &blob)
	replaced := map[string]bool{}
	for _, e := range blob.Entries {
		replaced[e.Replaces] = true
	}
	var heads []string
	for _, e := range blob.Entries {
		if !replaced[e.Name] {
			heads = append(heads, e.Name)
		}
	}
	if len(heads) != 1 {
		t.Fatalf("channel %s has the heads %v, want one", channel, heads)
	}
	return strings.TrimPrefix(heads[0], packageName+".v")
}
