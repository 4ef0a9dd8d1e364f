#!/usr/bin/env bash
# `make check-simd`: each kernel set is compiled to the instructions it is for,
# and nothing else touches them (checked in the binary with objdump, not hoped):
#   - KernelsAVX512: vfmadd on zmm registers;
#   - KernelsAVX2: vfmadd on ymm registers, no zmm;
#   - KernelsPortable and everything else (built for baseline x86-64): no zmm, no
#     ymm, no vfmadd, so the binary starts on any x86-64 CPU;
#   - nowhere a call to fmaf (what SIMD.addingProduct becomes without a CPU
#     target: measured 140x slower).
set -euo pipefail
bin="${1:-.build/release/vidlabel}"
dis="$(mktemp)"
trap 'rm -f "$dis"' EXIT
objdump -d --no-show-raw-insn "$bin" > "$dis"
# Per module (Swift mangles module KernelsAVX512 as "13KernelsAVX512"): instructions,
# vfmadd on zmm and on ymm, instructions naming zmm or ymm, fmaf calls.
awk '
  /^[0-9a-f]+ <.*>:$/ {
    m = "other"
    if ($0 ~ /13KernelsAVX512/) m = "avx512"; else if ($0 ~ /11KernelsAVX2/) m = "avx2"; else if ($0 ~ /15KernelsPortable/) m = "portable"
    next
  }
  /\t/ {
    n[m]++
    if ($0 ~ /vfmadd/ && $0 ~ /%zmm/) fz[m]++
    if ($0 ~ /vfmadd/ && $0 ~ /%ymm/) fy[m]++
    if ($0 ~ /%zmm/) z[m]++
    if ($0 ~ /%ymm/) y[m]++
    if ($0 ~ /call.*<fmaf?(@plt)?>/) c[m]++
  }
  END {
    split("avx512 avx2 portable other", ms, " ")
    for (i = 1; i <= 4; i++) { k = ms[i]; printf "%s %d %d %d %d %d %d\n", k, n[k], fz[k], fy[k], z[k], y[k], c[k] }
  }' "$dis" > "$dis.counts"
fail=0
while read -r mod insns fmaz fmay zmm ymm calls; do
  echo "check-simd: $mod: $insns instructions, vfmadd zmm $fmaz / ymm $fmay, zmm $zmm, ymm $ymm, fmaf calls $calls"
  [ "$calls" -eq 0 ] || { echo "check-simd: $mod calls fmaf: FMA is not inlined" >&2; fail=1; }
  case "$mod" in
    avx512) [ "$fmaz" -gt 0 ] || { echo "check-simd: no vfmadd on zmm in the AVX-512 set" >&2; fail=1; } ;;
    avx2) [ "$fmay" -gt 0 ] || { echo "check-simd: no vfmadd on ymm in the AVX2 set" >&2; fail=1; }
          [ "$zmm" -eq 0 ] || { echo "check-simd: the AVX2 set touches zmm registers" >&2; fail=1; } ;;
    portable|other)
          [ "$insns" -gt 0 ] || { echo "check-simd: no $mod code found" >&2; fail=1; }
          [ $((zmm + ymm + fmaz + fmay)) -eq 0 ] || { echo "check-simd: $mod code uses AVX registers or FMA: it must run on any x86-64" >&2; fail=1; } ;;
  esac
done < "$dis.counts"
rm -f "$dis.counts"
exit $fail
