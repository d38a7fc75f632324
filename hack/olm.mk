# OLM packaging: bundle, offline scorecard, file-based catalog and its upgrade graph.
# Included by the Makefile after its variables (VERSION, IMG, BUNDLE_IMG, BUNDLE_METADATA_OPTS, the
# tool paths OPERATOR_SDK, SCORECARD_TEST, OPM, KUSTOMIZE) and its `manifests` target.

PACKAGE_NAME := k8s-aws-operator
BUNDLE_DIR := bundle
BUNDLE_CSV := $(BUNDLE_DIR)/manifests/$(PACKAGE_NAME).clusterserviceversion.yaml
CATALOG_DIR := catalog
# Everything operator-sdk's optional suite for the Operator Framework checks (OperatorHub metadata,
# capabilities, categories, good practices, removed APIs). Warnings count as failures.
BUNDLE_VALIDATE_OPTS ?= --select-optional suite=operatorframework
# The catalog tool: renders bundles with opm and maintains the olm.channel entries (hack/olm/catalog).
CATALOG_TOOL = go run ./hack/olm/catalog
# Files `make bundle catalog` writes; verify-bundle-drift fails if they differ from what is committed.
OLM_GENERATED := bundle config bundle.Dockerfile catalog

##@ OLM packaging

# operator-sdk stamps createdAt with the current time on every run. Keep the committed value while the
# version stays the same, so regenerating is reproducible; a new VERSION gets a new timestamp.
define olm_keep_created_at
	if [ -n "$$created" ]; then \
		sed -i "s|^    createdAt: .*|    createdAt: \"$$created\"|" $(BUNDLE_CSV); fi
endef

# Validate ./bundle; fail on errors and on warnings alike.
define olm_bundle_validate
	out=$$($(OPERATOR_SDK) bundle validate ./$(BUNDLE_DIR) $(BUNDLE_VALIDATE_OPTS) -o json-alpha1 2>&1) || true; \
	echo "$$out"; \
	if ! grep -q '"passed": true' <<<"$$out"; then echo "bundle validate: FAILED"; exit 1; fi; \
	if grep -Eq '"type": "(warning|error)"|level=(warning|error|fatal)' <<<"$$out"; then \
		echo "bundle validate: warnings or errors (see above); both fail the build"; exit 1; fi; \
	echo "bundle validate ($(BUNDLE_VALIDATE_OPTS)): passed, no errors, no warnings"
endef

.PHONY: bundle
bundle: manifests $(KUSTOMIZE) $(OPERATOR_SDK) ## Regenerate bundle/ and bundle.Dockerfile (VERSION, IMG, CHANNELS, DEFAULT_CHANNEL), then validate it.
	$(OPERATOR_SDK) generate kustomize manifests -q --apis-dir apis
	cd config/manifests && $(KUSTOMIZE) edit set image controller=$(IMG)
	@created=""; \
	if [ -f $(BUNDLE_CSV) ] && grep -q "^  version: $(VERSION)$$" $(BUNDLE_CSV); then \
		created=$$(sed -n 's/^    createdAt: "\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' $(BUNDLE_CSV)); fi; \
	rm -rf $(BUNDLE_DIR)/manifests $(BUNDLE_DIR)/metadata $(BUNDLE_DIR)/tests; \
	set -x; \
	$(KUSTOMIZE) build config/manifests | $(OPERATOR_SDK) generate bundle -q --overwrite --version $(VERSION) $(BUNDLE_METADATA_OPTS); \
	{ set +x; } 2>/dev/null; \
	$(olm_keep_created_at)
	@$(olm_bundle_validate)

.PHONY: bundle-validate
bundle-validate: $(OPERATOR_SDK) ## Validate bundle/ with the operatorframework suite; warnings fail too.
	@$(olm_bundle_validate)

.PHONY: scorecard
scorecard: $(SCORECARD_TEST) ## Run the bundle's six scorecard tests offline (scorecard-test in a chroot, needs root).
	go run ./hack/olm/scorecard -scorecard-test $(SCORECARD_TEST) -bundle $(BUNDLE_DIR)

.PHONY: catalog
catalog: $(OPM) ## Put bundle/ (as BUNDLE_IMG) into the file-based catalog catalog/, creating it if needed, and validate it.
	$(CATALOG_TOOL) add-release --opm $(OPM) --catalog $(CATALOG_DIR) --package $(PACKAGE_NAME) \
		--bundle $(BUNDLE_DIR) --image $(BUNDLE_IMG) --icon hack/olm/icon.svg \
		--channels $(CHANNELS) --default-channel $(DEFAULT_CHANNEL)

.PHONY: catalog-validate
catalog-validate: $(OPM) ## opm validate catalog/.
	$(OPM) validate $(CATALOG_DIR)
	@echo "opm validate $(CATALOG_DIR): passed"

# A release bundle directory (e.g. a checkout's bundle/ at a release tag) and its pushed image.
RELEASE_BUNDLE ?=
RELEASE_BUNDLE_IMG ?=
RELEASE_CHANNELS ?=
.PHONY: catalog-add-release
catalog-add-release: $(OPM) ## Add a release: RELEASE_BUNDLE=<dir> RELEASE_BUNDLE_IMG=<image> [RELEASE_CHANNELS=alpha,stable].
	@if [ -z "$(RELEASE_BUNDLE)" ] || [ -z "$(RELEASE_BUNDLE_IMG)" ]; then \
		echo "usage: make catalog-add-release RELEASE_BUNDLE=<bundle dir> RELEASE_BUNDLE_IMG=<bundle image> [RELEASE_CHANNELS=a,b]"; exit 2; fi
	$(CATALOG_TOOL) add-release --opm $(OPM) --catalog $(CATALOG_DIR) --package $(PACKAGE_NAME) \
		--bundle $(RELEASE_BUNDLE) --image $(RELEASE_BUNDLE_IMG) --icon hack/olm/icon.svg \
		$(if $(RELEASE_CHANNELS),--channels $(RELEASE_CHANNELS))

.PHONY: olm-test
olm-test: $(OPM) $(KUBE_APISERVER) $(ETCD) ## Go tests: bundle contents, bundle on a real kube-apiserver, upgrade graph (second release, broken graph).
	OPM=$(OPM) go test ./test/olm/... -count=1 -v

.PHONY: olm-verify
olm-verify: bundle-validate scorecard catalog-validate olm-test ## Every OLM check on the committed bundle and catalog.

.PHONY: verify-bundle-drift
verify-bundle-drift: ## Regenerate bundle/, config/, bundle.Dockerfile and catalog/; fail if they differ from what is committed.
	$(MAKE) --no-print-directory bundle catalog
	@changes=$$(git status --porcelain -- $(OLM_GENERATED)); \
	if [ -n "$$changes" ]; then \
		echo "$$changes"; git --no-pager diff --stat -- $(OLM_GENERATED); \
		echo "bundle/catalog drift: the committed files differ from what 'make bundle catalog' generates; run it and commit"; exit 1; fi; \
	echo "no drift: $(OLM_GENERATED) match what 'make bundle catalog' generates"
