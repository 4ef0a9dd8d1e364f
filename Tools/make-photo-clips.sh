#!/usr/bin/env bash
# 2 s H.264 clips made from the real photos `make models` extracts (scikit-image's
# chelsea the cat, coffee, the astronaut: a face, and a scanned page: printed text),
# for the scan tests' known-content checks.
set -euo pipefail
samples="${1:-Models/samples}"
out="${2:-Fixtures/gen}"
mkdir -p "$out"
for name in chelsea coffee astronaut page; do
  ffmpeg -nostdin -hide_banner -loglevel error -y -loop 1 -framerate 25 -i "$samples/$name.png" -t 2 \
    -vf "scale=trunc(iw/2)*2:trunc(ih/2)*2" -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p \
    -fflags +bitexact -flags:v +bitexact -map_metadata -1 "$out/$name.mp4"
done

# A landscape with no one in it (a storm over fields and a road, from Debian's
# mate-backgrounds, which `make test` installs), for the faces test's negatives.
landscape=/usr/share/backgrounds/mate/nature/Storm.jpg
if [ -f "$landscape" ]; then
  ffmpeg -nostdin -hide_banner -loglevel error -y -loop 1 -framerate 25 -i "$landscape" -t 2 \
    -vf "scale=1280:-2" -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p \
    -fflags +bitexact -flags:v +bitexact -map_metadata -1 "$out/landscape.mp4"
fi

# Technical cues: two real clips with one second of black between them, then a
# photo, 640x360 at 25 fps: bikes 0-2 s, black 2-3 s, Big Buck Bunny 3-5 s
# (letterboxed), coffee 5-7 s. Black frames are at 2-3 s; shots start at 0, 2, 3
# and 5 s (plus any cut inside the real clips: bikes has one at 1.2 s).
ffmpeg -nostdin -hide_banner -loglevel error -y \
  -i "$samples/bikes.mp4" -i "$samples/bigbuckbunny.mp4" -loop 1 -framerate 25 -i "$samples/coffee.png" \
  -f lavfi -i color=c=black:s=640x360:r=25:d=1 \
  -filter_complex "[0:v]trim=duration=2,setpts=PTS-STARTPTS,scale=640:360,setsar=1,fps=25,format=yuv420p[a];\
[3:v]setsar=1,format=yuv420p[b];\
[1:v]trim=duration=2,setpts=PTS-STARTPTS,scale=640:272,pad=640:360:0:44,setsar=1,fps=25,format=yuv420p[c];\
[2:v]trim=duration=2,setpts=PTS-STARTPTS,scale=640:360,setsar=1,format=yuv420p[d];\
[a][b][c][d]concat=n=4:v=1:a=0[out]" \
  -map "[out]" -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p \
  -fflags +bitexact -flags:v +bitexact -map_metadata -1 "$out/cues.mp4"
