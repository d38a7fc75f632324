package testbed

import (
	"os"
	"strconv"

	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
)

// etcdQuotaVariable is etcd's environment form of --quota-backend-bytes. envtest passes no such
// flag, so etcd takes it from the environment it inherits from this process.
const etcdQuotaVariable = "ETCD_QUOTA_BACKEND_BYTES"

// StartWithEtcdQuota is StartWith with etcd's backend quota set to quotaBytes, for workloads
// larger than etcd's 2 GiB default (e.g. tens of thousands of 50 KiB Secrets plus their history).
func StartWithEtcdQuota(quotaBytes int64, emuOpts awsemu.Options) (*Bed, error) {
	if err := os.Setenv(etcdQuotaVariable, strconv.FormatInt(quotaBytes, 10)); err != nil {
		return nil, err
	}
	// Only the etcd started here is meant to get it.
	defer os.Unsetenv(etcdQuotaVariable)
	return StartWith(emuOpts)
}
