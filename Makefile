# ossmount build, test, demo and benchmarks. Everything runs from a clean clone;
# .ci/run installs the system packages (fuse3) that `make test` needs.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# How long each fuzz target runs inside `make test`: a count of executions,
# not seconds, because a time limit on a loaded machine makes the fuzzing
# coordinator fail with "context deadline exceeded" while workers are starved.
# Longer runs: make fuzz FUZZTIME=60s
FUZZTIME ?= 20000x

.PHONY: all build install test unit e2e fuzz demo bench soak lint clean release release-check deb

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ossmount ./cmd/ossmount
	$(GO) build -o $(BIN)/ossemu ./cmd/ossemu
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ossmount-csi ./cmd/ossmount-csi

# mount.fuse3 (fstab, `mount -t fuse.ossmount`) runs helpers with the default
# PATH only, so the command must live in one of its directories.
PREFIX ?= /usr/local
install: build
	install -m 0755 $(BIN)/ossmount $(PREFIX)/bin/ossmount

# Unit tests with the race detector, short fuzz runs over the committed
# corpora, then end-to-end tests that mount for real through /dev/fuse.
test: lint build unit fuzz e2e

unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /test/e2e)

fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

e2e: build
	OSSMOUNT_BIN=$(CURDIR)/$(BIN)/ossmount OSSEMU_BIN=$(CURDIR)/$(BIN)/ossemu \
	  $(GO) test -count=1 -timeout 15m ./test/e2e/...

demo: build
	./scripts/demo.sh

bench: build
	OSSMOUNT_BIN=$(CURDIR)/$(BIN)/ossmount OSSEMU_BIN=$(CURDIR)/$(BIN)/ossemu \
	  $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 30m ./test/bench/...

soak: build
	OSSMOUNT_BIN=$(CURDIR)/$(BIN)/ossmount OSSEMU_BIN=$(CURDIR)/$(BIN)/ossemu OSSMOUNT_SOAK=1 \
	  $(GO) test -count=1 -timeout 60m ./test/e2e/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Static (CGO_ENABLED=0), reproducible release binaries for Linux, named
# dist/PROGRAM-VERSION-linux-ARCH, with dist/SHA256SUMS. Reproducible: no
# paths (-trimpath), no build ID (-buildid=), version and VCS stamp from git
# only, so two builds of one commit have the same checksums.
DIST          ?= dist
RELEASE_ARCHS ?= amd64 arm64
RELEASE_FLAGS := -trimpath -ldflags "-s -w -buildid= $(LDFLAGS)"
release:
	@rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for arch in $(RELEASE_ARCHS); do for prog in ossmount ossemu; do \
	  echo "release $(DIST)/$$prog-$(VERSION)-linux-$$arch"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build $(RELEASE_FLAGS) \
	    -o $(DIST)/$$prog-$(VERSION)-linux-$$arch ./cmd/$$prog; \
	done; done
	cd $(DIST) && sha256sum *-linux-* > SHA256SUMS

# What CI checks of a release: every architecture builds, the amd64 binary
# is static and runs, and a second build gives the same checksums.
release-check: release
	@set -e; bin=$(DIST)/ossmount-$(VERSION)-linux-amd64; \
	$(GO) version -m $$bin | grep -q 'build[[:space:]]*CGO_ENABLED=0' || { echo "$$bin: not built with CGO_ENABLED=0"; exit 1; }; \
	if grep -qa 'ld-linux' $$bin; then echo "$$bin: names a dynamic loader (not static)"; exit 1; fi; \
	$$bin version | grep -q '^ossmount $(VERSION) ' || { echo "$$bin version: wrong output"; exit 1; }; \
	for arch in $(RELEASE_ARCHS); do for prog in ossmount ossemu; do \
	  test -s $(DIST)/$$prog-$(VERSION)-linux-$$arch || { echo "missing $$prog linux/$$arch"; exit 1; }; \
	done; done
	@$(MAKE) --no-print-directory release DIST=$(DIST).again >/dev/null
	@cmp $(DIST)/SHA256SUMS $(DIST).again/SHA256SUMS || { echo "release is not reproducible:"; diff $(DIST)/SHA256SUMS $(DIST).again/SHA256SUMS; exit 1; }
	@rm -rf $(DIST).again
	@echo "release-check: ok ($(RELEASE_ARCHS); amd64 static; reproducible)"; cat $(DIST)/SHA256SUMS

# .deb packages of the release binaries: /usr/bin/ossmount (on mount.fuse3's
# default PATH, so fstab lines work), Depends: fuse3. Built by nfpm, a Go
# tool run at a pinned version through the module proxy (not a dependency of
# this module); reproducible like the binaries. Debian versions must start
# with a digit: v1.2.3 -> 1.2.3, an untagged commit abc1234 -> 0.0~gitabc1234.
NFPM        ?= $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.41.3
DEB_VERSION := $(shell echo '$(VERSION)' | sed -E 's/^v([0-9])/\1/; t tag; s/^/0.0~git/; :tag; s/-/+/g')
deb: release
	@set -e; for arch in $(RELEASE_ARCHS); do \
	  mkdir -p dist/deb-stage && cp $(DIST)/ossmount-$(VERSION)-linux-$$arch dist/deb-stage/ossmount; \
	  DEB_ARCH=$$arch DEB_VERSION='$(DEB_VERSION)' $(NFPM) pkg --packager deb --config packaging/nfpm.yaml \
	    --target $(DIST)/ossmount_$(DEB_VERSION)_$$arch.deb; \
	done; rm -rf dist/deb-stage
	cd $(DIST) && sha256sum *-linux-* *.deb > SHA256SUMS

clean:
	rm -rf $(BIN) $(DIST)
