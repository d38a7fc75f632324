package ssm

import (
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// syncRecord is what the operator remembers of an SsmConfig's last successful read from SSM: the
// values (to repair drift in its Secret without calling AWS again) and when to read again.
type syncRecord struct {
	generation  int64
	values      fetchedValues
	fetchedAt   time.Time
	nextRefresh time.Time // zero: only when the spec changes
	// stale marks values SSM has changed since: the next reconcile reads them again.
	stale bool
}

// recordStore holds one syncRecord per SsmConfig; reconciles of different objects run in parallel.
type recordStore struct {
	mu      sync.Mutex
	records map[types.NamespacedName]syncRecord
}

func newRecordStore() *recordStore {
	return &recordStore{records: map[types.NamespacedName]syncRecord{}}
}

func (s *recordStore) get(key types.NamespacedName) (syncRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[key]
	return rec, ok
}

// put stores rec and returns how many SsmConfigs are remembered.
func (s *recordStore) put(key types.NamespacedName, rec syncRecord) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[key] = rec
	return len(s.records)
}

// forget drops key and returns how many SsmConfigs are remembered.
func (s *recordStore) forget(key types.NamespacedName) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, key)
	return len(s.records)
}

// due tells whether rec must be re-read from SSM for generation at now.
func (rec syncRecord) due(generation int64, now time.Time) bool {
	return rec.stale || rec.generation != generation || (!rec.nextRefresh.IsZero() && !now.Before(rec.nextRefresh))
}

// uses tells whether rec was read from the parameter requested as key.
func (rec syncRecord) uses(key string) bool {
	_, found := rec.values.byName[key]
	return found || slices.Contains(rec.values.notFound, key)
}

// markStale marks the records read from key as stale and returns their SsmConfigs.
func (s *recordStore) markStale(key string) []types.NamespacedName {
	s.mu.Lock()
	defer s.mu.Unlock()
	var marked []types.NamespacedName
	for name, rec := range s.records {
		if rec.uses(key) {
			rec.stale = true
			s.records[name] = rec
			marked = append(marked, name)
		}
	}
	return marked
}
