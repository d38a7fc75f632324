package main

import (
	"context"
	"fmt"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
)

// objectsPerNamespace spreads the SsmConfigs and ServiceAccounts over namespaces as teams would.
const objectsPerNamespace = 10

// namespaceOf is the namespace of the i-th object of a workload whose namespaces start with prefix.
func namespaceOf(prefix string, i int) string {
	return fmt.Sprintf("%s-%04d", prefix, i/objectsPerNamespace)
}

// namespacesOf lists the namespaces of a workload of n objects.
func namespacesOf(prefix string, n int) []string {
	var names []string
	for i := 0; i < n; i += objectsPerNamespace {
		names = append(names, namespaceOf(prefix, i))
	}
	return names
}

// ssmWorkload is the SSM side of the benchmark: a pool of parameters, and SsmConfigs that each
// name a few of them drawn at random, so that several SsmConfigs share each name.
type ssmWorkload struct {
	pool       []string
	values     []string
	namespaces []string
	configs    []*ssmv1alpha1.SsmConfig
}

const ssmNamespacePrefix = "bench"

func newSSMWorkload(cfg *config) *ssmWorkload {
	random := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed))
	w := &ssmWorkload{
		pool:       make([]string, cfg.PoolSize),
		values:     make([]string, cfg.PoolSize),
		namespaces: namespacesOf(ssmNamespacePrefix, cfg.Configs),
	}
	for i := range w.pool {
		// Distinct basenames: the Secret keys of one SsmConfig never collide.
		w.pool[i] = fmt.Sprintf("/bench/apps/PARAM_%05d", i)
		w.values[i] = fmt.Sprintf("%016x%016x", random.Uint64(), random.Uint64())
	}
	for i := range cfg.Configs {
		w.configs = append(w.configs, &ssmv1alpha1.SsmConfig{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%05d", i), Namespace: namespaceOf(ssmNamespacePrefix, i)},
			Spec: ssmv1alpha1.SsmConfigSpec{
				SsmKeys:         w.draw(random, cfg.NamesPerConfig),
				RefreshInterval: &metav1.Duration{Duration: cfg.RefreshInterval.value()},
			},
		})
	}
	return w
}

// draw picks n distinct names of the pool.
func (w *ssmWorkload) draw(random *rand.Rand, n int) []ssmv1alpha1.ParameterName {
	picked := map[int]bool{}
	names := make([]ssmv1alpha1.ParameterName, 0, n)
	for len(names) < n {
		i := random.IntN(len(w.pool))
		if !picked[i] {
			picked[i] = true
			names = append(names, ssmv1alpha1.ParameterName(w.pool[i]))
		}
	}
	return names
}

// references is how many names all SsmConfigs list together: what one GetParameter call per name
// and per refresh costs.
func (w *ssmWorkload) references() int {
	n := 0
	for _, c := range w.configs {
		n += len(c.Spec.SsmKeys)
	}
	return n
}

// uniqueNames is how many distinct names the SsmConfigs list.
func (w *ssmWorkload) uniqueNames() int {
	unique := map[ssmv1alpha1.ParameterName]bool{}
	for _, c := range w.configs {
		for _, name := range c.Spec.SsmKeys {
			unique[name] = true
		}
	}
	return len(unique)
}

// perConfigBatches is what batching each SsmConfig on its own costs: ⌈names/10⌉ per SsmConfig.
func (w *ssmWorkload) perConfigBatches() int {
	n := 0
	for _, c := range w.configs {
		n += ceilDiv(len(c.Spec.SsmKeys), getParametersBatch)
	}
	return n
}

// getParametersBatch is the most names one GetParameters call accepts.
const getParametersBatch = 10

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// putParameters stores every parameter of the pool in the emulator as a SecureString.
func (w *ssmWorkload) putParameters(emu *awsemu.Emulator) error {
	for i, name := range w.pool {
		if err := emu.PutParameter(name, w.values[i], "SecureString"); err != nil {
			return err
		}
	}
	return nil
}

// createNamespaces creates the namespaces the objects live in.
func createNamespaces(ctx context.Context, k8s client.Client, names []string) error {
	return parallel(ctx, len(names), func(ctx context.Context, i int) error {
		return k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names[i]}})
	})
}

// createAll creates the objects concurrently, as a mass deployment would.
func createAll[T client.Object](ctx context.Context, k8s client.Client, objects []T) error {
	return parallel(ctx, len(objects), func(ctx context.Context, i int) error {
		// A copy: the created object's server fields must not leak into the workload's templates.
		return k8s.Create(ctx, objects[i].DeepCopyObject().(client.Object))
	})
}
