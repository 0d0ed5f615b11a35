# SPDX-License-Identifier: BSD-3-Clause
# gossipd: build, test and demo entry points (Debian 12, as root).
#
#   make deps    install the Debian packages the build and tests need
#   make build   meson setup (once) + ninja
#   make test    every test once, one summary (docs/TESTING.md): the
#                build's unit tests and timing-sensitive integration tests,
#                then one ASan+UBSan build (build-san) for its unit tests,
#                the other integration tests and the fuzz targets (20 s each)
#   make fuzz    the fuzz targets only, FUZZ_TIME seconds each (30)
#   make demo    5-node local cluster: converge, kill, detect, restart
#   make bench-converge   convergence benchmark (simulator + emulation):
#                results/converge.{json,csv} and PNG plots; pass options
#                with BENCH_ARGS, e.g. make bench-converge BENCH_ARGS=--quick
#   make bench-detect     failure detection in the simulator (BENCH_ARGS as
#                above, e.g. --quick): results/detect.{json,csv} + plots
#   make bench-fp-cluster false positives of real netns clusters, 10 min,
#                0/5/10/20% loss, SIGSTOP and CPU load: results/fp-cluster.*
#   make bench-auth       cost of packet authentication: AEAD seal/open per
#                size, node rx plaintext vs authenticated, emulation
#                throughput: docs/bench/auth/ (BENCH_ARGS, e.g. --quick)
#   make bench-vs-serf    HashiCorp Serf and gossipd side by side, 32 real
#                processes each in netns: idle CPU and bytes per node, time
#                until every survivor marks a SIGKILLed one down (installs
#                the Debian package serf when missing; BENCH_ARGS as above)
#   make soak    chaos soak: an 8-node netns cluster under loss, SIGSTOP,
#                partition, SIGKILL, key rotation and a junk flood at once
#                for 10 min, then checks (docs/RELIABILITY.md); options with
#                SOAK_ARGS, e.g. make soak SOAK_ARGS="--minutes 2";
#                results/soak.json
#   make deb     a Debian package of gossipd in dist/ (scripts/make-deb)
#   make clean   stop a cluster left by scripts/cluster, remove build/,
#                build-san/ and run/

BUILD ?= build
PYTHON := /usr/bin/python3

DEPS := meson ninja-build pkg-config gcc g++ libdpdk-dev dpdk libnuma-dev \
	libinih-dev libjansson-dev libc-ares-dev libsodium-dev libcmocka-dev \
	libbenchmark-dev python3 python3-pytest python3-scapy python3-yaml \
	dnsmasq-base iproute2 procps kmod python3-matplotlib \
	python3-cryptography clang-14 libclang-rt-14-dev prometheus dpdk-dev \
	libsystemd-dev dpkg-dev systemd debootstrap man-db

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test fuzz demo bench-converge bench-detect \
	bench-fp-cluster bench-auth bench-vs-serf soak clean deb

all: build

# apt-get runs only when something is missing (dpkg-query decides).
deps:
	@missing=""; \
	for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | \
			grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "deps: all $(words $(DEPS)) packages are installed"; \
	else \
		echo "deps: installing:$$missing"; \
		$(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y \
			--no-install-recommends $$missing; \
	fi

build: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then \
		meson setup $(BUILD); \
	fi
	ninja -C $(BUILD)

test: build
	$(PYTHON) scripts/run-tests --build $(BUILD)

fuzz: deps
	$(PYTHON) scripts/fuzz --time $(or $(FUZZ_TIME),30)

demo: build
	scripts/demo --build $(BUILD)

bench-converge: build
	$(PYTHON) scripts/bench-converge --build $(BUILD) $(BENCH_ARGS)

bench-detect: build
	$(PYTHON) scripts/bench-detect --build $(BUILD) $(BENCH_ARGS)

bench-fp-cluster: build
	$(PYTHON) scripts/bench-fp-cluster $(BENCH_ARGS)

bench-auth: build
	$(PYTHON) scripts/bench-auth --build $(BUILD) $(BENCH_ARGS)

# serf is the benchmark's peer, not a dependency of the build or tests
bench-vs-serf: build
	@command -v serf >/dev/null || { $(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y \
		--no-install-recommends serf; }
	$(PYTHON) scripts/bench-vs-serf --build $(BUILD) $(BENCH_ARGS)

soak: build
	$(PYTHON) scripts/soak --build $(BUILD) $(SOAK_ARGS)

clean:
	-@[ ! -f run/cluster/state.json ] || $(PYTHON) scripts/cluster down
	-@[ ! -f run/demo/state.json ] || $(PYTHON) scripts/cluster down --state run/demo
	-@[ ! -f run/soak/state.json ] || $(PYTHON) scripts/cluster down --state run/soak
	rm -rf $(BUILD) build-san build-deb run dist

# deb: dist/gossipd_VERSION-1_ARCH.deb (scripts/make-deb; docs/PACKAGING.md)
deb: deps
	scripts/make-deb
