# k8s-aws-operator — build, test, demo and OLM packaging, offline.
# Every tool is built from pinned Go module sources into ./bin (see tools/*/go.mod); nothing is curled.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

# Only the Go module proxy is reachable; stay on the machine's Go.
export GOPROXY ?= https://proxy.golang.org
export GOTOOLCHAIN ?= local

VERSION ?= $(shell cat VERSION)
IMG ?= ghcr.io/605-tv/k8s-aws-operator:v$(VERSION)
BUNDLE_IMG ?= ghcr.io/605-tv/k8s-aws-operator-bundle:v$(VERSION)
CHANNELS ?= alpha,stable
DEFAULT_CHANNEL ?= alpha
BUNDLE_CHANNELS := --channels=$(CHANNELS)
BUNDLE_DEFAULT_CHANNEL := --default-channel=$(DEFAULT_CHANNEL)
BUNDLE_METADATA_OPTS ?= $(BUNDLE_CHANNELS) $(BUNDLE_DEFAULT_CHANNEL)

BIN := $(CURDIR)/bin
GOARCH := $(shell go env GOARCH)
GOOS := $(shell go env GOOS)

## Pinned tool versions. Versioned file names make a version bump rebuild the tool.
CONTROLLER_GEN_VERSION ?= v0.20.0
KUSTOMIZE_VERSION ?= v5.6.0
OPERATOR_SDK_VERSION := $(shell awk '$$1=="github.com/operator-framework/operator-sdk"{print $$2}' tools/operator-sdk/go.mod)
OPM_VERSION := $(shell awk '$$1=="github.com/operator-framework/operator-registry"{print $$2}' tools/opm/go.mod)
KUBE_VERSION := $(shell awk '$$1=="k8s.io/kubernetes"{print $$2}' tools/envtest/go.mod)
ETCD_VERSION := $(shell awk '$$1=="go.etcd.io/etcd/server/v3"{print $$2}' tools/envtest/go.mod)
KUBE_MINOR := $(word 2,$(subst ., ,$(KUBE_VERSION)))

CONTROLLER_GEN := $(BIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
KUSTOMIZE := $(BIN)/kustomize-$(KUSTOMIZE_VERSION)
OPERATOR_SDK := $(BIN)/operator-sdk-$(OPERATOR_SDK_VERSION)
SCORECARD_TEST := $(BIN)/scorecard-test-$(OPERATOR_SDK_VERSION)
OPM := $(BIN)/opm-$(OPM_VERSION)
# The layout setup-envtest uses, so `setup-envtest use --bin-dir bin` also finds it offline.
ENVTEST_DIR := $(BIN)/k8s/$(KUBE_VERSION:v%=%)-$(GOOS)-$(GOARCH)
KUBE_APISERVER := $(ENVTEST_DIR)/kube-apiserver
ETCD := $(ENVTEST_DIR)/etcd
KUBECTL := $(BIN)/kubectl-$(KUBE_VERSION)

export KUBEBUILDER_ASSETS := $(ENVTEST_DIR)

KUBE_LDFLAGS := -s -w -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(KUBE_MINOR)
SDK_VERSION_PKG := github.com/operator-framework/operator-sdk/internal/version
SDK_LDFLAGS := -X $(SDK_VERSION_PKG).Version=$(OPERATOR_SDK_VERSION) -X $(SDK_VERSION_PKG).GitVersion=$(OPERATOR_SDK_VERSION) \
	-X $(SDK_VERSION_PKG).KubernetesVersion=v1.33.1 -X $(SDK_VERSION_PKG).ImageVersion=$(OPERATOR_SDK_VERSION)

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./apis/..."

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRD and RBAC from markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./apis/..." paths="./controllers/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: fmt
fmt: ## go fmt.
	go fmt ./...

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: test
test: generate manifests fmt vet envtest $(OPM) ## Unit and integration tests against a real kube-apiserver + etcd and the AWS emulator.
	OPM=$(OPM) go test ./... -count=1 -timeout 20m

.PHONY: verify
verify: verify-generated verify-bundle-drift olm-verify ## Generated files are committed and current; every OLM check passes.

.PHONY: verify-generated
verify-generated: generate manifests ## Fail if DeepCopy, CRD or RBAC differ from what is committed.
	@if [ -n "$$(git status --porcelain -- apis config)" ]; then \
		git status --porcelain -- apis config; git --no-pager diff --stat -- apis config; \
		echo "generated files are out of date: run 'make generate manifests' and commit"; exit 1; fi

.PHONY: build
build: generate ## Build the operator binary.
	go build -trimpath -o $(BIN)/manager .

# The demo suggests the user's kubectl, or builds one from the apiserver's sources when there is none.
DEMO_KUBECTL := $(or $(shell command -v kubectl 2>/dev/null),$(KUBECTL))

.PHONY: demo
demo: envtest $(DEMO_KUBECTL) ## Run the operator against a local control plane and the AWS emulator (DEMO_EXIT=1 exits after printing).
	go run ./hack/demo --kubectl $(DEMO_KUBECTL)

.PHONY: run
run: generate ## Run the operator against the cluster of the current kubeconfig.
	go run . --metrics-secure=false --metrics-bind-address=:8080

##@ Deployment

.PHONY: docker-build
docker-build: ## Build the operator image (needs a Docker engine).
	docker build -t $(IMG) .

.PHONY: install
install: manifests $(KUSTOMIZE) ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | kubectl apply -f -

.PHONY: deploy
deploy: manifests $(KUSTOMIZE) ## Deploy the operator (image IMG) into the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/default | sed 's|image: controller:latest|image: $(IMG)|' | kubectl apply -f -

##@ Tools (built from pinned module sources into ./bin)

.PHONY: tools envtest kubectl
tools: $(CONTROLLER_GEN) $(KUSTOMIZE) $(OPERATOR_SDK) $(SCORECARD_TEST) $(OPM) envtest ## Build every tool.
envtest: $(KUBE_APISERVER) $(ETCD) ## Build kube-apiserver and etcd for envtest.
kubectl: $(KUBECTL) ## Build kubectl from the same sources as the apiserver.

$(CONTROLLER_GEN):
	GOBIN=$(BIN)/.gobin go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(BIN)/.gobin/controller-gen $@

$(KUSTOMIZE):
	GOBIN=$(BIN)/.gobin go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(BIN)/.gobin/kustomize $@

$(KUBE_APISERVER):
	cd tools/envtest && go build -trimpath -ldflags "$(KUBE_LDFLAGS)" -o $@ k8s.io/kubernetes/cmd/kube-apiserver

# etcd's main package is named "server"; it builds under its real name here.
$(ETCD):
	cd tools/envtest && go build -trimpath -ldflags "-s -w" -o $@ go.etcd.io/etcd/server/v3

$(KUBECTL):
	cd tools/envtest && go build -trimpath -ldflags "$(KUBE_LDFLAGS)" -o $@ k8s.io/kubernetes/cmd/kubectl

# containers_image_openpgp avoids the gpgme C library.
$(OPERATOR_SDK):
	cd tools/operator-sdk && go build -trimpath -tags containers_image_openpgp -ldflags "-s -w $(SDK_LDFLAGS)" \
		-o $@ github.com/operator-framework/operator-sdk/cmd/operator-sdk

$(SCORECARD_TEST):
	cd tools/operator-sdk && CGO_ENABLED=0 go build -trimpath -tags containers_image_openpgp -ldflags "-s -w" \
		-o $@ github.com/operator-framework/operator-sdk/images/scorecard-test

# opm needs cgo (sqlite) and the json1 tag.
$(OPM):
	cd tools/opm && CGO_ENABLED=1 go build -trimpath -tags json1,containers_image_openpgp \
		-ldflags "-s -w -X github.com/operator-framework/operator-registry/cmd/opm/version.opmVersion=$(OPM_VERSION)" \
		-o $@ github.com/operator-framework/operator-registry/cmd/opm

include hack/olm.mk
include hack/e2e.mk
include hack/bench.mk
