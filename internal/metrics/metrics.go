// Package metrics defines the operator's Prometheus metrics. They are registered with
// controller-runtime's registry, so the manager's metrics endpoint serves them.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

const namespace = "k8s_aws_operator"

var (
	// AWSCalls counts every attempt of an AWS API call (retries included), by outcome:
	// "ok" or the service's error code (e.g. ThrottlingException), or "transport" for network errors.
	AWSCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "aws_api_calls_total",
		Help:      "AWS API call attempts by service, operation and outcome.",
	}, []string{"service", "operation", "outcome"})

	// SSMSyncs counts SsmConfig syncs by result (the Ready condition's reason).
	SSMSyncs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "ssm_syncs_total",
		Help:      "SsmConfig syncs by result.",
	}, []string{"result"})

	// SSMSyncDuration measures one SsmConfig sync, SSM reads and the Secret write included.
	SSMSyncDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace,
		Name:      "ssm_sync_duration_seconds",
		Help:      "Duration of SsmConfig syncs.",
		Buckets:   prometheus.ExponentialBuckets(0.005, 2, 14),
	})

	// SSMConfigsManaged is the number of SsmConfigs the operator currently manages.
	SSMConfigsManaged = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "ssm_configs_managed",
		Help:      "SsmConfigs currently managed.",
	})

	// IAMRolesManaged is the number of IAM roles the operator currently manages.
	IAMRolesManaged = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "iam_roles_managed",
		Help:      "IAM roles currently managed for ServiceAccounts.",
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(AWSCalls, SSMSyncs, SSMSyncDuration, SSMConfigsManaged, IAMRolesManaged)
}
