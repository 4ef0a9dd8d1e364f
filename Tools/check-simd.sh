#!/usr/bin/env bash
# `make check-simd`: the kernels must be compiled to fused multiply-adds.
# Without a CPU target Swift lowers SIMD.addingProduct to per-lane fmaf calls
# (measured 140x slower); this fails the build if that ever comes back.
set -euo pipefail
bin="${1:-.build/release/vidlabel}"
dis="$(mktemp)"
trap 'rm -f "$dis"' EXIT
objdump -d --no-show-raw-insn "$bin" > "$dis"
# Only the kernels' own functions: Swift mangles module Kernels as "7Kernels".
kernels=$(awk '/^[0-9a-f]+ <.*7Kernels.*>:$/{p=1; next} /^[0-9a-f]+ <.*>:$/{p=0} p' "$dis")
fma=$(grep -c 'vfmadd' <<<"$kernels" || true)
calls=$(grep -cE 'call.*<fmaf?(@plt)?>' <<<"$kernels" || true)
echo "check-simd: $fma vfmadd instructions, $calls fmaf calls in the Kernels module"
[ "$fma" -gt 0 ] || { echo "check-simd: no vfmadd in the kernels: SIMD flags missing?" >&2; exit 1; }
[ "$calls" -eq 0 ] || { echo "check-simd: kernels call fmaf: FMA is not inlined" >&2; exit 1; }
