package operator

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/605-tv/k8s-aws-operator/internal/awsclient"
)

// setupIAM registers the ServiceAccount IAM controller.
func setupIAM(ctx context.Context, mgr manager.Manager, cfg *Config, clients *awsclient.Clients) error {
	return nil
}
