#!/usr/bin/env bash
# The kernel sets this machine's CPU would not pick, run for real under qemu-user
# (Debian qemu-user, ~200x slower): as a Haswell (AVX2 + FMA, no AVX-512) and as a
# Nehalem (SSE4.2, no AVX). qemu kills a binary that executes an instruction the
# emulated CPU lacks with SIGILL, so a pass shows the set never strays.
# For each CPU: `--version` reports the expected set, `VIDLABEL_ISA=avx512` is a
# clear error (not a crash), and MobileNetV2 matches onnxruntime's golden outputs
# within 1e-4 with every set that CPU can run (the XCTest parity test, whose
# kernelSets are the emulated CPU's).
set -euo pipefail
bin="${1:-.build/release/vidlabel}"
tests="${2:-.build/release/vidlabelPackageTests.xctest}"
command -v qemu-x86_64 >/dev/null || { echo "qemu-check: qemu-x86_64 missing (make test-deps installs qemu-user)" >&2; exit 1; }
quiet() { grep -v "TCG doesn't support requested feature" || true; }
for pair in Haswell:avx2 Nehalem:portable; do
  cpu=${pair%%:*} want=${pair##*:}
  engine=$(qemu-x86_64 -cpu "$cpu" "$bin" --version 2>&1 | quiet | grep '^engine:')
  [[ "$engine" == "engine: $want kernels"* ]] || { echo "qemu-check: -cpu $cpu: expected the $want set, got: $engine" >&2; exit 1; }
  set +e
  refused=$(VIDLABEL_ISA=avx512 qemu-x86_64 -cpu "$cpu" "$bin" bench-model Models/mobilenet-v2.onnx --runs 1 2>&1 | quiet)
  status=$?
  set -e
  [ "$status" -eq 1 ] && grep -q "VIDLABEL_ISA=avx512: this CPU cannot run it" <<<"$refused" \
    || { echo "qemu-check: -cpu $cpu: VIDLABEL_ISA=avx512 gave status $status: $refused" >&2; exit 1; }
  start=$(date +%s)
  out=$(qemu-x86_64 -cpu "$cpu" "$tests" InferenceTests.ModelTests/testMobileNetV2MatchesOnnxruntime 2>&1 | quiet)
  grep -q "Executed 1 test, with 0 failures" <<<"$out" || { echo "$out" | tail -20; echo "qemu-check: -cpu $cpu: parity failed" >&2; exit 1; }
  echo "qemu-check: -cpu $cpu: $engine; VIDLABEL_ISA=avx512 refused; MobileNetV2 parity with onnxruntime passed ($(( $(date +%s) - start )) s)"
done
