package core

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/605-tv/k8s-aws-operator/internal/metrics"
)

// managedRoles is the set of ServiceAccounts whose role this process has converged, behind the
// roles-managed gauge. Every selected ServiceAccount is reconciled at start, so the gauge is
// complete after the first pass.
type managedRoles struct {
	mu   sync.Mutex
	keys map[types.NamespacedName]struct{}
}

func newManagedRoles() *managedRoles {
	return &managedRoles{keys: map[types.NamespacedName]struct{}{}}
}

func (m *managedRoles) add(key types.NamespacedName) {
	m.update(func() { m.keys[key] = struct{}{} })
}

func (m *managedRoles) forget(key types.NamespacedName) {
	m.update(func() { delete(m.keys, key) })
}

func (m *managedRoles) update(change func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	change()
	metrics.IAMRolesManaged.Set(float64(len(m.keys)))
}
