package ssm

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/605-tv/k8s-aws-operator/internal/metrics"
	"github.com/605-tv/k8s-aws-operator/internal/ssmfetch"
	"github.com/605-tv/k8s-aws-operator/internal/steps"
)

// checkAccess refuses, before anything is read, names outside the namespace's access policy.
func (r *Reconciler) checkAccess(ctx context.Context, run *syncRun) error {
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, types.NamespacedName{Name: run.obj.Namespace}, ns); err != nil {
		return kubeError("reading the namespace's access policy", err)
	}
	run.denied = r.Policy.deniedNames(ns, &run.obj.Spec)
	if len(run.denied) > 0 {
		return steps.Refusal(ReasonPathNotAllowed, "namespace %s may not read %s (see the %s annotation on the Namespace)",
			ns.Name, strings.Join(bounded(run.denied), ", "), AllowedPathsAnnotation)
	}
	return nil
}

// claimSecret finds the Secret to manage. One of that name that this SsmConfig does not control
// belongs to someone else: it is never adopted nor overwritten.
func (r *Reconciler) claimSecret(ctx context.Context, run *syncRun) error {
	secret, err := r.getSecret(ctx, types.NamespacedName{Namespace: run.obj.Namespace, Name: run.secretName})
	if err != nil || secret == nil {
		return err
	}
	if !metav1.IsControlledBy(secret, run.obj) {
		return steps.Refusal(ReasonSecretConflict, "Secret %s already exists and is not managed by this SsmConfig; "+
			"delete it or set spec.secretName to another name", run.secretName)
	}
	run.secret = secret
	return nil
}

// getSecret reads from the cache of managed Secrets first and, when the Secret is not there (absent,
// or unlabelled), from the API server, so that the cache never has to hold every Secret.
func (r *Reconciler) getSecret(ctx context.Context, key types.NamespacedName) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := r.Client.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, secret)
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, kubeError("reading Secret "+key.Name, err)
	}
	return secret, nil
}

// loadValues reads the spec's parameters from SSM when due (new spec, refresh interval passed,
// nothing remembered) and otherwise works from the values read last time, so that repairing an
// edited Secret costs no AWS call.
func (r *Reconciler) loadValues(ctx context.Context, run *syncRun) error {
	if rec, ok := r.records.get(run.key); ok && !rec.due(run.obj.Generation, run.now) {
		run.record = rec
		return nil
	}
	values, err := r.fetch(ctx, run)
	if err != nil {
		return awsError(err)
	}
	run.fetched = true
	run.record = syncRecord{generation: run.obj.Generation, values: values, fetchedAt: run.now}
	if interval := refreshInterval(run.obj); interval > 0 {
		run.record.nextRefresh = run.now.Add(r.Jitter(interval))
	}
	return nil
}

func (r *Reconciler) fetch(ctx context.Context, run *syncRun) (fetchedValues, error) {
	values := fetchedValues{byName: map[string]ssmfetch.Parameter{}}
	if names := run.obj.Spec.SsmKeys; len(names) > 0 {
		requested := make([]string, len(names))
		for i, n := range names {
			requested[i] = string(n)
		}
		// Values another SsmConfig had read within this one's refresh interval are fresh enough.
		result, err := r.Fetcher.GetWithin(ctx, requested, refreshInterval(run.obj))
		if err != nil {
			return values, err
		}
		values.byName, values.notFound = result.Parameters, result.NotFound
	}
	seen := map[string]bool{}
	for _, p := range run.obj.Spec.SsmPaths {
		params, err := r.Fetcher.GetByPath(ctx, p.Path, p.Recursive)
		if err != nil {
			return values, err
		}
		// Overlapping paths list a parameter twice; it is still one key.
		for _, param := range params {
			if !seen[param.Name] {
				seen[param.Name] = true
				values.fromPaths = append(values.fromPaths, param)
			}
		}
	}
	return values, nil
}

// composeSecret computes the Secret's data from the values.
func (r *Reconciler) composeSecret(_ context.Context, run *syncRun) error {
	var previous map[string][]byte
	if run.secret != nil {
		previous = run.secret.Data
	}
	data, err := secretData(&run.obj.Spec, run.record.values, previous)
	if err != nil {
		return steps.Refusal(ReasonInvalidSpec, "%s", err.Error())
	}
	run.data = data
	return nil
}

// writeSecret creates or updates the Secret only when it differs from what it should be.
func (r *Reconciler) writeSecret(ctx context.Context, run *syncRun) error {
	desired := desiredSecret(run.obj, run.secretName, run.data)
	var err error
	switch {
	case run.secret == nil:
		run.changes = diffData(nil, desired.Data)
		run.changes.created = true
		err = r.Client.Create(ctx, desired)
	case !secretUpToDate(run.secret, desired):
		run.changes = diffData(run.secret.Data, desired.Data)
		err = r.Client.Update(ctx, mergeSecret(run.secret, desired))
	}
	if err != nil {
		return kubeError("writing Secret "+run.secretName, err)
	}
	return nil
}

// rememberValues keeps what was just read from SSM and written, for drift repair and refresh timing.
func (r *Reconciler) rememberValues(_ context.Context, run *syncRun) error {
	if run.fetched {
		metrics.SSMConfigsManaged.Set(float64(r.records.put(run.key, run.record)))
	}
	return nil
}

// releaseOldSecret deletes the Secret this SsmConfig managed under its previous spec.secretName.
func (r *Reconciler) releaseOldSecret(ctx context.Context, run *syncRun) error {
	old := run.obj.Status.SecretName
	if old == "" || old == run.secretName {
		return nil
	}
	secret, err := r.getSecret(ctx, types.NamespacedName{Namespace: run.obj.Namespace, Name: old})
	if err != nil || secret == nil || !metav1.IsControlledBy(secret, run.obj) {
		return err
	}
	if err := r.Client.Delete(ctx, secret); err != nil && !apierrors.IsNotFound(err) {
		return kubeError("deleting the previous Secret "+old, err)
	}
	return nil
}

// maxListed bounds the names shown in status and messages.
const maxListed = 20

func bounded(names []string) []string {
	if len(names) <= maxListed {
		return names
	}
	return append(names[:maxListed-1:maxListed-1], fmt.Sprintf("and %d more", len(names)-maxListed+1))
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
