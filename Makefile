# kubefay — make targets. The two commands for a fresh machine are `make lab` and `make test`.
SHELL := /bin/bash
GO ?= go
OUT := _output
BIN := $(OUT)/bin
BINARIES := kubefay-agent kubefay-cni kubefay-controller kubectl-kubefay
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/kubefay/kubefay/pkg/version.Version=$(VERSION)

.PHONY: all build manifests docs lab lab-down lab-status test vet unit integration e2e conformance bench fmt generate image clean help

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## static binaries of every command into _output/bin
	@mkdir -p $(BIN)
	@for b in $(BINARIES); do \
	  if [ -f cmd/$$b/main.go ]; then CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/$$b ./cmd/$$b || exit 1; fi; \
	done

image: build ## the kubefay container image as a docker-archive (no Docker needed)
	@if [ -x build/images/build.sh ]; then build/images/build.sh; else echo "no build/images/build.sh yet"; fi

manifests: ## render the Helm chart build/helm/kubefay: build/yamls/kubefay.yml and its golden files
	hack/manifests.sh

docs: ## the README's pipeline table from the pipeline declaration (pkg/agent/pipeline: tables.go, priorities.go)
	$(GO) run ./hack/tools/pipelinedoc README.md docs/design.md

lab: ## local lab cluster: control plane + 2 nodes (OVS each) + kubefay + demo pods
	hack/lab up --nodes $${NODES:-2}

lab-down: ## stop the lab and remove every trace of it
	hack/lab down

lab-status: ## what runs in the lab
	hack/lab status

test: ## everything CI runs: vet, unit (-race), integration (real OVS, real apiserver), lab e2e
	hack/test.sh

vet: ## go vet
	$(GO) vet ./...

unit: ## unit tests with the race detector (real-OVS tests in pkg/ovs included)
	$(GO) test -race -count=1 ./pkg/... ./cmd/...

integration: ## integration tests: real OVS in netns, real etcd + kube-apiserver
	hack/test.sh integration

e2e: ## lab e2e suite (brings a lab up and down)
	hack/test.sh e2e

conformance: ## upstream [sig-network] Conformance + NetworkPolicy e2e specs on the running lab (reports in _output/conformance)
	hack/conformance.sh $(SUITES)

bench: ## benchmarks against the OVS tools and the lab (prints figures and ratios)
	$(GO) test -run '^$$' -bench . -benchtime 20x ./pkg/ovs/...

fmt: ## gofmt
	gofmt -w $$(git ls-files '*.go')

generate: ## deepcopy and CRD YAML (controller-gen), then the chart's renders
	hack/codegen.sh
	hack/manifests.sh

clean: ## remove build outputs (not the cached Kubernetes binaries)
	rm -rf $(BIN) $(OUT)/images
