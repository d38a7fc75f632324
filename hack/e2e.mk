# OLM end-to-end suite: OLM itself installs the operator from our file-based catalog onto a local control
# plane, the operator runs with the identity OLM gave it, and OLM upgrades it through the channel.
# Included by the Makefile after its variables (BIN, ENVTEST_DIR, KUBE_LDFLAGS, OPM, KUBE_APISERVER,
# ETCD) and hack/olm.mk. Tools are built from pinned module sources (tools/envtest, tools/olm,
# tools/kwok); their versioned file names make a version bump rebuild them.

OLM_VERSION := $(shell awk '$$1=="github.com/operator-framework/operator-lifecycle-manager"{print $$2}' tools/olm/go.mod)
KWOK_VERSION := $(shell awk '$$1=="sigs.k8s.io/kwok"{print $$2}' tools/kwok/go.mod)

# Next to kube-apiserver: built from the same Kubernetes sources.
KUBE_CONTROLLER_MANAGER := $(ENVTEST_DIR)/kube-controller-manager
KUBE_SCHEDULER := $(ENVTEST_DIR)/kube-scheduler
OLM_OLM := $(BIN)/olm-$(OLM_VERSION)
OLM_CATALOG := $(BIN)/olm-catalog-$(OLM_VERSION)
OLM_CRDS := $(BIN)/olm-crds-$(OLM_VERSION)
KWOK := $(BIN)/kwok-$(KWOK_VERSION)
KWOK_STAGES := $(BIN)/kwok-stages-$(KWOK_VERSION).yaml

OLM_MODULE := github.com/operator-framework/operator-lifecycle-manager
OLM_LDFLAGS := -s -w -X $(OLM_MODULE)/pkg/version.OLMVersion=$(OLM_VERSION)
# kwokctl's "fast" stages: nodes become Ready at once and keep a lease; pods become Running and Ready
# at once and are deleted as soon as they are asked to.
KWOK_STAGE_FILES := node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
	pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml

# OLM's operators and opm serve listen on all interfaces (":8080", ":<port>", fixed in their code).
# Where the kernel allows it, the suite runs in a network namespace of its own that holds only
# loopback: nothing it starts is reachable from, or can reach, another host, and the fixed ports
# cannot clash with other programs on the machine.
E2E_NETNS_EXEC := $(CURDIR)/test/e2e/netns-exec.sh
E2E_TIMEOUT ?= 20m

##@ OLM end-to-end

.PHONY: e2e-olm
e2e-olm: e2e-olm-tools ## OLM installs the catalog's operator on a local control plane, runs it under OLM's RBAC, upgrades it through the channel.
	@if $(E2E_NETNS_EXEC) true 2>/dev/null; then exec_flag="-exec $(E2E_NETNS_EXEC)"; \
	else exec_flag=""; echo "e2e-olm: no network namespace available (unshare --net --map-root-user failed): OLM and opm listen on all interfaces"; fi; \
	set -x; \
	E2E_OLM=1 OPM=$(OPM) KUBE_CONTROLLER_MANAGER=$(KUBE_CONTROLLER_MANAGER) KUBE_SCHEDULER=$(KUBE_SCHEDULER) \
	KWOK=$(KWOK) KWOK_STAGES=$(KWOK_STAGES) OLM_OLM=$(OLM_OLM) OLM_CATALOG=$(OLM_CATALOG) OLM_CRDS=$(OLM_CRDS) \
	go test ./test/e2e/... $$exec_flag -count=1 -v -timeout $(E2E_TIMEOUT)

.PHONY: e2e-olm-tools
e2e-olm-tools: envtest $(OPM) $(KUBE_CONTROLLER_MANAGER) $(KUBE_SCHEDULER) $(KWOK) $(KWOK_STAGES) $(OLM_OLM) $(OLM_CATALOG) $(OLM_CRDS) ## Build what the OLM end-to-end suite runs.

$(KUBE_CONTROLLER_MANAGER):
	cd tools/envtest && go build -trimpath -ldflags "$(KUBE_LDFLAGS)" -o $@ k8s.io/kubernetes/cmd/kube-controller-manager

$(KUBE_SCHEDULER):
	cd tools/envtest && go build -trimpath -ldflags "$(KUBE_LDFLAGS)" -o $@ k8s.io/kubernetes/cmd/kube-scheduler

# containers_image_openpgp avoids the gpgme C library.
$(OLM_OLM):
	cd tools/olm && go build -trimpath -tags containers_image_openpgp -ldflags "$(OLM_LDFLAGS)" -o $@ $(OLM_MODULE)/cmd/olm

$(OLM_CATALOG):
	cd tools/olm && go build -trimpath -tags containers_image_openpgp -ldflags "$(OLM_LDFLAGS)" -o $@ $(OLM_MODULE)/cmd/catalog

# OLM's CRDs, from the pinned module's deploy/chart/crds.
$(OLM_CRDS):
	src=$$(cd tools/olm && go mod download -json $(OLM_MODULE) | awk -F'"' '$$2=="Dir"{print $$4}'); \
	rm -rf $@.tmp && mkdir -p $@.tmp && install -m 0644 $$src/deploy/chart/crds/*.yaml $@.tmp/ && mv $@.tmp $@

$(KWOK):
	cd tools/kwok && go build -trimpath -ldflags "-s -w" -o $@ sigs.k8s.io/kwok/cmd/kwok

$(KWOK_STAGES):
	src=$$(cd tools/kwok && go mod download -json sigs.k8s.io/kwok | awk -F'"' '$$2=="Dir"{print $$4}'); \
	for f in $(KWOK_STAGE_FILES); do echo "---"; cat $$src/kustomize/stage/$$f; done > $@.tmp && mv $@.tmp $@
