#!/usr/bin/env bash
# 2 s H.264 clips made from the real photos `make models` extracts (scikit-image's
# chelsea the cat, coffee, and the astronaut: a face), for the scan tests' known-content checks.
set -euo pipefail
samples="${1:-Models/samples}"
out="${2:-Fixtures/gen}"
mkdir -p "$out"
for name in chelsea coffee astronaut; do
  ffmpeg -nostdin -hide_banner -loglevel error -y -loop 1 -framerate 25 -i "$samples/$name.png" -t 2 \
    -vf "scale=trunc(iw/2)*2:trunc(ih/2)*2" -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p \
    -fflags +bitexact -flags:v +bitexact -map_metadata -1 "$out/$name.mp4"
done
