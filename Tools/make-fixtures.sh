#!/usr/bin/env bash
# Generates the small deterministic video fixtures the tests use, into
# Fixtures/gen/ (git-ignored: a fresh clone makes them with `make fixtures`).
# Every encode ends with `-fflags +bitexact` so reruns give the same bytes.
# Documented facts the tests rely on are next to each file.
set -euo pipefail
out="${1:-Fixtures/gen}"
mkdir -p "$out"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
bx=(-fflags +bitexact -flags:v +bitexact -map_metadata -1)

# gop.mp4: H.264 320x240, 30 fps, 5 s, a key frame exactly every 1 s (0,1,2,3,4), B-frames on.
ff -f lavfi -i testsrc2=size=320x240:rate=30 -t 5 -c:v libx264 -preset veryfast -g 30 -keyint_min 30 \
   -sc_threshold 0 -pix_fmt yuv420p "${bx[@]}" "$out/gop.mp4"

# rotated.mp4: a portrait phone video. Upright it is 240x320, red top half,
# blue bottom half; stored as 320x240 frames turned clockwise, with a display
# matrix (ffprobe "rotation": 90) that players undo. 2 s, key frame every 1 s.
ff -f lavfi -i "color=red:size=240x160:rate=30,pad=240:320:0:0:blue" -t 2 -vf transpose=clock \
   -c:v libx264 -preset veryfast -g 30 -pix_fmt yuv420p "${bx[@]}" "$out/.rotated_src.mp4"
ff -i "$out/.rotated_src.mp4" -c copy -metadata:s:v:0 rotate=90 "${bx[@]}" "$out/rotated.mp4"
rm -f "$out/.rotated_src.mp4"

# vfr.mp4: variable frame rate: 30 fps for 2 s, then 10 fps for 2 s (80 frames).
ff -f lavfi -i testsrc2=size=320x240:rate=30 -t 4 -vf "select='lt(t\,2)+not(mod(n\,3))'" -fps_mode vfr \
   -c:v libx264 -preset veryfast -g 15 -pix_fmt yuv420p "${bx[@]}" "$out/vfr.mp4"

# hevc10.mp4: 10-bit HEVC (yuv420p10le), 2 s at 30 fps, key frame every 1 s.
ff -f lavfi -i testsrc2=size=320x240:rate=30 -t 2 -c:v libx265 -preset ultrafast -pix_fmt yuv420p10le \
   -x265-params "keyint=30:min-keyint=30:scenecut=0:log-level=error" -tag:v hvc1 "${bx[@]}" "$out/hevc10.mp4"

# vp9.webm: VP9 in WebM, 2 s at 30 fps, key frame every 1 s.
ff -f lavfi -i testsrc2=size=320x240:rate=30 -t 2 -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 30 \
   -keyint_min 30 -pix_fmt yuv420p "${bx[@]}" "$out/vp9.webm"

# av1.mkv: AV1 (libaom), 2 s at 30 fps, key frame every 1 s.
ff -f lavfi -i testsrc2=size=320x240:rate=30 -t 2 -c:v libaom-av1 -cpu-used 8 -row-mt 1 -g 30 -keyint_min 30 \
   -pix_fmt yuv420p "${bx[@]}" "$out/av1.mkv"

# mjpeg.avi: every frame a key frame, 3 s at 30 fps (90 frames).
ff -f lavfi -i testsrc2=size=320x240:rate=30 -t 3 -c:v mjpeg -q:v 5 -pix_fmt yuvj420p "${bx[@]}" "$out/mjpeg.avi"

# scenes.mp4: three shots, 25 fps, one key frame only (at 0): testsrc2 for
# 2.0 s, mandelbrot for 1.6 s, rgbtestsrc for 1.4 s -> cuts at 2.0 s and 3.6 s.
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 \
   -f lavfi -i mandelbrot=size=320x240:rate=25 \
   -f lavfi -i rgbtestsrc=size=320x240:rate=25:duration=1.4 \
   -filter_complex "[1:v]trim=duration=1.6,setpts=PTS-STARTPTS[m];[0:v][m][2:v]concat=n=3:v=1[v]" -map "[v]" \
   -c:v libx264 -preset veryfast -g 1000 -keyint_min 1000 -sc_threshold 0 -pix_fmt yuv420p "${bx[@]}" "$out/scenes.mp4"

# oneframe.mp4: a single frame.
ff -f lavfi -i testsrc2=size=320x240:rate=30 -frames:v 1 -c:v libx264 -pix_fmt yuv420p "${bx[@]}" "$out/oneframe.mp4"

# audio_only.mp4: AAC audio, no video stream.
ff -f lavfi -i sine=frequency=440:duration=1 -c:a aac "${bx[@]}" "$out/audio_only.mp4"

# empty.mp4: 0 bytes.
: > "$out/empty.mp4"

# garbage.mp4: 64 KiB of deterministic pseudo-random bytes.
python3 -c "
import random, sys
r = random.Random(1234)
sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(65536)))" > "$out/garbage.mp4"

# truncated_moov.mp4: gop.mp4 (moov at the end) cut to its first half: no moov atom.
size=$(stat -c %s "$out/gop.mp4")
head -c $((size / 2)) "$out/gop.mp4" > "$out/truncated_moov.mp4"

# truncated_mid.mp4: a faststart mp4 (moov first) cut in the middle of its media data.
ff -i "$out/gop.mp4" -c copy -movflags +faststart "${bx[@]}" "$out/.faststart.mp4"
size=$(stat -c %s "$out/.faststart.mp4")
head -c $((size / 2)) "$out/.faststart.mp4" > "$out/truncated_mid.mp4"
rm -f "$out/.faststart.mp4"

# corrupt.mp4: gop.mp4 with 8 runs of 64 pseudo-random bytes written into its
# media data (from 25% to 70% of the file): decodes with errors, but decodes.
python3 - "$out/gop.mp4" "$out/corrupt.mp4" <<'PY'
import random, sys
data = bytearray(open(sys.argv[1], 'rb').read())
r = random.Random(99)
mdat = data.find(b'mdat')
for k in range(8):
    at = int(len(data) * (0.25 + 0.45 * k / 7))
    assert at > mdat + 8
    data[at:at + 64] = bytes(r.getrandbits(8) for _ in range(64))
open(sys.argv[2], 'wb').write(bytes(data))
PY

# zero_frames.avi: an AVI with an MPEG-4 video stream header but no frames.
ff -f lavfi -i testsrc2=size=160x120:rate=30 -frames:v 0 -c:v mpeg4 "${bx[@]}" "$out/zero_frames.avi"

echo "fixtures in $out"
