package testbed

import "github.com/605-tv/k8s-aws-operator/internal/awsemu"

// StartOn is StartWith on a control plane the caller started, e.g. with other CRDs than the
// operator's: the OLM end-to-end suite installs OLM's CRDs and lets OLM install the operator's.
// Bed.Stop stops the control plane too; on error the caller still owns it.
func StartOn(cp *ControlPlane, emuOpts awsemu.Options) (*Bed, error) {
	return startOn(cp, emuOpts)
}
