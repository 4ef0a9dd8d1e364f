#!/usr/bin/env python3
"""The peer for `make bench`'s end-to-end row: the same job as `vidlabel scan`
(key frames, open_nsfw + EfficientNet-Lite0) in Python with PyAV and
onnxruntime, batch 8, 2 threads. Prints the frame count and nsfw/topic top-1.
Usage: pipeline.py VIDEO MODELS_DIR"""
import sys

import av
import numpy as np
import onnxruntime as ort

video, models = sys.argv[1], sys.argv[2]
opts = ort.SessionOptions()
opts.intra_op_num_threads = 2
nsfw = ort.InferenceSession(f"{models}/open-nsfw.onnx", opts, providers=["CPUExecutionProvider"])
topic = ort.InferenceSession(f"{models}/efficientnet-lite0.onnx", opts, providers=["CPUExecutionProvider"])


def frames():
    with av.open(video) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        for frame in container.decode(stream):
            w, h = frame.width, frame.height
            side = min(w, h)
            # open_nsfw: stretch to 256x256, centre 224 (BGR minus mean); topics: centre crop 224/256, (x-127)/128.
            a = frame.to_ndarray(width=256, height=256, format="rgb24").astype(np.float32)[16:240, 16:240]
            crop = int(side * 224 / 256)
            sq = frame.reformat(width=w, height=h).to_ndarray(format="rgb24")[(h - crop) // 2:(h + crop) // 2, (w - crop) // 2:(w + crop) // 2]
            b = av.VideoFrame.from_ndarray(np.ascontiguousarray(sq), format="rgb24").to_ndarray(width=224, height=224, format="rgb24")
            yield a[:, :, ::-1] - np.array([104, 117, 123], np.float32), ((b.astype(np.float32) - 127) / 128).transpose(2, 0, 1)


count, batch_a, batch_b = 0, [], []


def flush():
    global count, batch_a, batch_b
    if batch_a:
        nsfw.run(None, {nsfw.get_inputs()[0].name: np.stack(batch_a)})
        topic.run(None, {"input": np.stack(batch_b)})
        count += len(batch_a)
        batch_a, batch_b = [], []


for a, b in frames():
    batch_a.append(a)
    batch_b.append(b)
    if len(batch_a) == 8:
        flush()
flush()
print(count)
