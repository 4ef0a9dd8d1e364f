#!/usr/bin/env bash
# `make bench`: vidlabel against its peers, measured in the same run, with ratios.
#   1. decode: `vidlabel frames` (key frames) vs `ffmpeg -skip_frame nokey` on a 60 s 1080p clip
#   2. memory: peak RSS of `vidlabel frames` on a 10-minute clip vs a 1-minute clip
#   3. engine: `vidlabel bench-model` vs onnxruntime, per model, batch 1/8, threads 1/2 (the
#      kernel set this CPU picks), then batch 1 / 1 thread with every kernel set the CPU runs;
#      the GEMM on open_nsfw's shapes against this CPU's FMA peak, measured here (Tools/fma_peak.c)
#   4. end to end: `vidlabel scan` vs a Python PyAV + onnxruntime pipeline (Tools/pipeline.py), and
#      scan with faces and text vs the same job in Python (Tools/pipeline_faces_text.py: rapidocr's pipeline)
#   5. HTML report: page bytes for 1 min, 10 min and 1 hour of video, and the time --html adds
# Speed is printed, never asserted: the tests do not time anything.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/vidlabel
PY=.build/tools-venv/bin/python
DIR=Fixtures/gen/bench
mkdir -p "$DIR"
clip() { # name seconds preset
  [ -s "$DIR/$1" ] || ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 -t "$2" \
     -c:v libx264 -preset "$3" -g 60 -pix_fmt yuv420p -fflags +bitexact "$DIR/$1"
}
clip clip60.mp4 60 medium
clip clip60u.mp4 60 ultrafast
clip clip600.mp4 600 ultrafast

median3() { # command... -> median wall seconds of 3 runs
  local t=()
  for _ in 1 2 3; do
    local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    t+=("$($PY -c "print($e - $s)")")
  done
  printf '%s\n' "${t[@]}" | sort -g | sed -n 2p
}
ratio() { $PY -c "print(f'{$1 / $2:.3f}')"; }

# Every number below is for this CPU and these kernels.
echo "== machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $($BIN --version | sed -n 's/^engine: //p')"
gcc -O2 -o "$DIR/fma_peak" Tools/fma_peak.c
isa=$($BIN bench-model Models/mobilenet-v2.onnx --runs 1 --warmup 0 | $PY -c "import json,sys; print(json.load(sys.stdin)['isa'])")
sets=$(for s in avx512 avx2 portable; do VIDLABEL_ISA=$s $BIN bench-model Models/mobilenet-v2.onnx --runs 1 --warmup 0 >/dev/null 2>&1 && echo $s; done)
peak_avx2=$("$DIR/fma_peak" avx2)
case " $(echo $sets) " in *" avx512 "*) peak_avx512=$("$DIR/fma_peak" avx512) ;; *) peak_avx512=0 ;; esac
echo "   fp32 FMA peak, 1 core (Tools/fma_peak.c, 12 chains): AVX2 $peak_avx2 GFLOP/s, AVX-512 ${peak_avx512} GFLOP/s (0: not on this CPU)"
peak=$([ "$isa" = avx512 ] && echo "$peak_avx512" || echo "$peak_avx2")

echo "== decode: 60 s 1080p H.264, GOP 2 s (30 key frames), 1 thread"
ours=$(median3 $BIN frames $DIR/clip60.mp4 --sample keyframes --min-interval 0)
peer=$(median3 ffmpeg -nostdin -threads 1 -skip_frame nokey -i $DIR/clip60.mp4 -vf scale=224:224 -pix_fmt rgb24 -f null -)
printf "vidlabel frames %.3f s   ffmpeg %.3f s   ratio %s (target <= 1.3)\n" "$ours" "$peer" "$(ratio "$ours" "$peer")"

echo "== memory: peak RSS of vidlabel frames, 10-minute vs 1-minute clip (same encoding)"
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
short=$(rss $BIN frames $DIR/clip60u.mp4 --min-interval 0)
long=$(rss $BIN frames $DIR/clip600.mp4 --min-interval 0)
printf "1 min %d KB   10 min %d KB   ratio %s (target <= 1.2)\n" "$short" "$long" "$(ratio "$long" "$short")"

echo "== engine ($isa kernels): ms per run, ours vs onnxruntime (default optimisations), same thread count"
echo "   Alternating bursts (8 x ours and 8 x onnxruntime at batch 1, 4 + 4 at batch 8, interleaved) so a change in this VM's speed lands on both;"
echo "   median of the bursts' medians and best run. Target: ratio <= 1.2 at batch 1, 1 thread."
printf "%-20s %5s %7s %10s %10s %7s %10s %10s %7s\n" model batch threads vidlabel onnxrt ratio best_ours best_ort ratio
for m in open-nsfw efficientnet-lite0 mobilenet-v2; do
  for batch in 1 8; do
    for threads in 1 2; do
      # Batch 1 (the target row): 8 burst pairs. The VM's speed changes about once a
      # second, and with 4 pairs one slow second in one side's bursts moved the median
      # ratio by up to 0.3 (measured: 0.98-1.40 for the same binary within minutes).
      runs=$(( batch == 1 ? 8 : 2 )); bursts=$(( batch == 1 ? 8 : 4 ))
      ours=(); peer=()
      for _ in $(seq $bursts); do
        ours+=("$($BIN bench-model Models/$m.onnx --batch $batch --threads $threads --runs $runs --warmup 2 | $PY -c "import json,sys; d=json.load(sys.stdin); print(d['median_ms'], d['min_ms'])")")
        peer+=("$($PY Tools/bench_ort.py Models/$m.onnx $batch $threads $runs | $PY -c "import json,sys; d=json.load(sys.stdin); print(d['median_ms'], d['min_ms'])")")
      done
      printf '%s\n' "${ours[@]}" > "$DIR/ours.txt"; printf '%s\n' "${peer[@]}" > "$DIR/peer.txt"
      $PY - "$m" "$batch" "$threads" "$DIR/ours.txt" "$DIR/peer.txt" <<'PYEOF'
import statistics, sys
m, batch, threads, ours, peer = sys.argv[1:]
def load(p):
    rows = [tuple(map(float, l.split())) for l in open(p) if l.strip()]
    return statistics.median(r[0] for r in rows), min(r[1] for r in rows)
(om, ob), (pm, pb) = load(ours), load(peer)
print(f"{m:<20} {int(batch):5d} {int(threads):7d} {om:10.2f} {pm:10.2f} {om / pm:7.3f} {ob:10.2f} {pb:10.2f} {ob / pb:7.3f}")
PYEOF
    done
  done
done

echo "== engine, every kernel set this CPU runs: batch 1, 1 thread, 8 alternating burst pairs of 8 runs"
printf "%-20s %-9s %10s %10s %7s\n" model isa vidlabel onnxrt ratio
for m in open-nsfw efficientnet-lite0 mobilenet-v2; do
  for s in $sets; do
    ours=(); peer=()
    for _ in $(seq 8); do
      ours+=("$(VIDLABEL_ISA=$s $BIN bench-model Models/$m.onnx --runs 8 --warmup 2 | $PY -c "import json,sys; print(json.load(sys.stdin)['median_ms'])")")
      peer+=("$($PY Tools/bench_ort.py Models/$m.onnx 1 1 8 | $PY -c "import json,sys; print(json.load(sys.stdin)['median_ms'])")")
    done
    $PY -c "import statistics,sys; o=statistics.median(map(float,sys.argv[3].split())); p=statistics.median(map(float,sys.argv[4].split())); print(f'{sys.argv[1]:<20} {sys.argv[2]:<9} {o:10.2f} {p:10.2f} {o/p:7.3f}')" \
      "$m" "$s" "${ours[*]}" "${peer[*]}"
  done
done

echo "== detectors: 1 thread, $isa kernels, 8 alternating burst pairs of 8 runs: MTCNN (P-Net on a 640x360 frame, R-Net and O-Net"
echo "   on batches of face candidates), PP-OCR (detection on a 1080p frame's 960x544 picture, recognition of a 320 px line,"
echo "   the orientation classifier), NudeNet 320n (YOLOv8n). Target: ratio <= 1.0"
printf "%-20s %-12s %10s %10s %7s\n" model input vidlabel onnxrt ratio
for row in "mtcnn-pnet 1 640x360" "mtcnn-rnet 16 -" "mtcnn-onet 8 -" "ppocr-det 1 960x544" "ppocr-rec 1 320x48" "ppocr-cls 1 192x48" \
           "optional/nudenet-320n 1 320x320"; do
  read -r m batch size <<< "$row"
  sizearg=(); [ "$size" = - ] || sizearg=(--size "$size")
  ours=(); peer=()
  for _ in $(seq 8); do
    ours+=("$($BIN bench-model Models/$m.onnx --batch "$batch" "${sizearg[@]}" --runs 8 --warmup 2 | $PY -c "import json,sys; print(json.load(sys.stdin)['median_ms'])")")
    peer+=("$($PY Tools/bench_ort.py Models/$m.onnx "$batch" 1 8 $([ "$size" = - ] || echo "$size") | $PY -c "import json,sys; print(json.load(sys.stdin)['median_ms'])")")
  done
  input=$([ "$size" = - ] && echo "batch $batch" || echo "$size")
  $PY -c "import statistics,sys; o=statistics.median(map(float,sys.argv[3].split())); p=statistics.median(map(float,sys.argv[4].split())); print(f'{sys.argv[1]:<20} {sys.argv[2]:<12} {o:10.2f} {p:10.2f} {o/p:7.3f}')" \
    "${m#optional/}" "$input" "${ours[*]}" "${peer[*]}"
done

echo "== GEMM: open_nsfw's conv shapes (single-Conv models, Tools/conv_shapes.py), 1 thread, best of 20, $isa kernels, % of the $isa peak ($peak GFLOP/s)"
echo "   ours: the Conv step alone (VIDLABEL_PROFILE); onnxruntime: the whole one-node model incl. its NCHWc reorders"
printf "%-34s %7s %9s %8s %10s\n" shape GFLOP ours_ms GFLOP/s "%ofpeak"
rm -rf "$DIR/convs"
$PY Tools/conv_shapes.py Models/open-nsfw.onnx "$DIR/convs" > "$DIR/convs.jsonl"
while read -r line; do
  f=$($PY -c "import json,sys; print(json.loads(sys.argv[1])['file'])" "$line")
  shape=$($PY -c "import json,sys; print(json.loads(sys.argv[1])['shape'])" "$line")
  gflop=$($PY -c "import json,sys; print(json.loads(sys.argv[1])['gflop'])" "$line")
  ms=$(VIDLABEL_PROFILE=1 $BIN bench-model "$f" --runs 20 --warmup 2 --threads 1 2>&1 >/dev/null | awk '/ Conv /{print $1}' | sort -g | head -1)
  ort=$($PY Tools/bench_ort.py "$f" 1 1 20 | $PY -c "import json,sys; print(json.load(sys.stdin)['min_ms'])")
  $PY -c "g=$gflop; ms=$ms; print(f'{\"$shape\":<34} {g:7.3f} {ms:9.3f} {g/ms*1e3:8.1f} {g/ms*1e3/$peak*100:9.0f}%   onnxruntime model {$ort:.3f} ms')"
done < "$DIR/convs.jsonl"

echo "== batch: 40 short clips, --jobs 2, vs 40 sequential vidlabel scan calls in a shell loop"
mkdir -p "$DIR/batch40"
for i in $(seq -w 1 40); do
  [ -s "$DIR/batch40/c$i.mp4" ] || ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=640x360:rate=30" \
     -t 3 -vf "hue=h=$((10#$i * 9))" -c:v libx264 -preset veryfast -g 30 -pix_fmt yuv420p -fflags +bitexact "$DIR/batch40/c$i.mp4"
done
seq_loop() { for f in "$DIR"/batch40/*.mp4; do $BIN scan "$f" --no-frames >/dev/null; done; }
s=$(date +%s.%N); seq_loop; e=$(date +%s.%N); peer=$($PY -c "print($e - $s)")
s=$(date +%s.%N); $BIN batch "$DIR/batch40" --jobs 2 --no-frames -o /tmp/vidlabel-bench-batch.jsonl 2>/dev/null; e=$(date +%s.%N); ours=$($PY -c "print($e - $s)")
printf "vidlabel batch --jobs 2 %.3f s   40 x vidlabel scan %.3f s   ratio %s (target <= 0.6)\n" "$ours" "$peer" "$(ratio "$ours" "$peer")"

echo "== end to end: 60 s 1080p clip, key frames, open_nsfw + EfficientNet-Lite0, 2 threads, whole processes"
ours=$(median3 $BIN scan $DIR/clip60.mp4 --threads 2 -o /tmp/vidlabel-bench-scan.json)
peer=$(median3 $PY Tools/pipeline.py $DIR/clip60.mp4 Models)
printf "vidlabel scan %.3f s   python pyav+onnxruntime %.3f s   ratio %s (target <= 0.5)\n" "$ours" "$peer" "$(ratio "$ours" "$peer")"
printf "vidlabel scan peak RSS %d KB (target <= 153600 KB, 150 MiB)\n" "$(rss $BIN scan $DIR/clip60.mp4 --threads 2 -o /tmp/vidlabel-bench-scan.json)"

echo "== end to end with faces and text: the same clip, --analyzers moderation,topics,faces,text, 2 threads, vs the same job in Python"
echo "   (Tools/pipeline_faces_text.py: PyAV, onnxruntime, our MTCNN nets, rapidocr 3.10.0's own PP-OCR pipeline), whole processes"
ours=$(median3 $BIN scan $DIR/clip60.mp4 --threads 2 --analyzers moderation,topics,faces,text -o /tmp/vidlabel-bench-scan.json)
peer=$(median3 .build/bench-venv/bin/python Tools/pipeline_faces_text.py $DIR/clip60.mp4 Models)
printf "vidlabel scan %.3f s   python pyav+onnxruntime+rapidocr %.3f s   ratio %s (target <= 0.6)\n" "$ours" "$peer" "$(ratio "$ours" "$peer")"
printf "vidlabel scan with faces and text: peak RSS %d KB\n" "$(rss $BIN scan $DIR/clip60.mp4 --threads 2 --analyzers moderation,topics,faces,text -o /tmp/vidlabel-bench-scan.json)"

echo "== HTML report: page size, and the wall time --html adds to scan (2 threads, key frames, median of 3)"
[ -s "$DIR/clip3600.mp4" ] || ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=10 -t 3600 \
   -c:v libx264 -preset ultrafast -g 20 -pix_fmt yuv420p -fflags +bitexact "$DIR/clip3600.mp4"
for c in clip60.mp4 clip600.mp4 clip3600.mp4; do
  plain=$(median3 $BIN scan $DIR/$c --threads 2 -o /tmp/vidlabel-bench-scan.json)
  html=$(median3 $BIN scan $DIR/$c --threads 2 -o /tmp/vidlabel-bench-scan.json --html /tmp/vidlabel-bench.html)
  frames=$($PY -c "import json; print(json.load(open('/tmp/vidlabel-bench-scan.json'))['sampling']['frames_sampled'])")
  printf "%-13s %5d frames   page %8d bytes   scan %.3f s   scan --html %.3f s   ratio %s\n" \
    "$c" "$frames" "$(stat -c %s /tmp/vidlabel-bench.html)" "$plain" "$html" "$(ratio "$html" "$plain")"
done

echo "== catalogue scale: the 40 short clips through Beam (DirectRunner, 2 worker processes) and Spark (local[2]) vs vidlabel batch --jobs 2"
if [ -x .build/integrations-venv/bin/python ]; then
  .build/integrations-venv/bin/python integrations/bench.py $BIN "$DIR/batch40" 2>/dev/null
else
  echo "(skipped: make integrations-venv installs the runners)"
fi
