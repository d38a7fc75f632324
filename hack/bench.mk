##@ Benchmarks

# Issue 7's scale benchmark: the operator as its own process against a local kube-apiserver + etcd
# and the AWS emulator enforcing account quotas. Prints a table and a JSON summary (also written to
# bench-results.json). BENCH_ARGS adds flags, e.g. BENCH_ARGS="--strict" or "--scenarios ssm".
BENCH_ARGS ?=

.PHONY: bench bench-full
bench: envtest ## Scale benchmark, quick mode (CI-sized: a few minutes on 2 cores).
	go run ./hack/bench --mode quick $(BENCH_ARGS)

bench-full: envtest ## Scale benchmark at issue 7's sizes (docs/benchmarks.md has its figures).
	go run ./hack/bench --mode full $(BENCH_ARGS)
