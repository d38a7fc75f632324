package operator_test

import (
	"flag"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/605-tv/k8s-aws-operator/internal/operator"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

var bed *testbed.Bed

func TestMain(m *testing.M) { os.Exit(testbed.Main(m, &bed)) }

// The assembled manager starts against a real apiserver, answers its probes, serves the
// operator's metrics and stops cleanly.
func TestManagerProbesMetricsAndShutdown(t *testing.T) {
	cfg, err := testbed.OperatorConfig()
	require.NoError(t, err)
	op, err := bed.StartOperator(cfg)
	require.NoError(t, err)

	for _, path := range []string{"/healthz", "/readyz"} {
		require.Eventually(t, func() bool {
			resp, err := http.Get("http://" + cfg.ProbeAddr + path)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, waitFor, tick, path)
	}
	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + cfg.MetricsAddr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		// controller-runtime registers a controller's series when its workers start.
		return resp.StatusCode == http.StatusOK && strings.Contains(body, "controller_runtime_reconcile_total")
	}, waitFor, tick, "metrics endpoint with the controllers' series")
	assert.Contains(t, body, "k8s_aws_operator_ssm_configs_managed")

	require.NoError(t, op.Stop(), "graceful shutdown")
	_, err = http.Get("http://" + cfg.ProbeAddr + "/healthz")
	assert.Error(t, err, "probes are gone after shutdown")
}

func TestFlagsFallBackToEnvironment(t *testing.T) {
	t.Setenv("K8S_AWS_OPERATOR_CLUSTER_NAME", "from-env")
	t.Setenv("K8S_AWS_OPERATOR_SSM_RATE_LIMIT", "12.5")
	t.Setenv("K8S_AWS_OPERATOR_ROLE_PATH", "/ignored/")
	cfg, err := operator.ParseFlags(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--role-path=/flag/"})
	require.NoError(t, err)
	assert.Equal(t, "from-env", cfg.ClusterName)
	assert.Equal(t, 12.5, cfg.AWS.SSMRate)
	assert.Equal(t, "/flag/", cfg.RolePath, "a flag given on the command line wins")

	t.Setenv("K8S_AWS_OPERATOR_SSM_CONCURRENCY", "many")
	_, err = operator.ParseFlags(flag.NewFlagSet("t", flag.ContinueOnError), nil)
	assert.ErrorContains(t, err, "K8S_AWS_OPERATOR_SSM_CONCURRENCY")
}

func TestConfigValidation(t *testing.T) {
	cases := map[string][]string{
		"--max-policies-per-role must be between 1 and 20":   {"--max-policies-per-role=21"},
		"--require-permissions-boundary is set":              {"--require-permissions-boundary"},
		"--ssm-concurrency and --iam-concurrency must be at": {"--ssm-concurrency=0"},
	}
	for want, args := range cases {
		_, err := operator.ParseFlags(flag.NewFlagSet("t", flag.ContinueOnError), args)
		assert.ErrorContains(t, err, want, args)
	}
}

const (
	waitFor = 30 * time.Second
	tick    = 50 * time.Millisecond
)
