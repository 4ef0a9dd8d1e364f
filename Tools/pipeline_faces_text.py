#!/usr/bin/env python3
"""The peer for `make bench`'s faces-and-text row: the job of `vidlabel scan
--analyzers moderation,topics,faces,text` in Python, as one would write it:
PyAV decodes the key frames; open_nsfw and EfficientNet-Lite0 on onnxruntime
(as Tools/pipeline.py); MTCNN with our converted nets on onnxruntime (the
cascade of Tools/mtcnn_reference.py, its pyramid resized with OpenCV's
INTER_AREA) on the frame scaled to 640 px wide; rapidocr 3.10.0's own PP-OCR
pipeline on the whole frame, detection at a 960 px longer side. 2 threads per
session. Prints frames, faces and text lines found.
Usage: pipeline_faces_text.py VIDEO MODELS_DIR"""
import os
import sys

import av
import cv2
import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mtcnn_reference  # noqa: E402
from rapidocr import RapidOCR  # noqa: E402


def area_resize(img, out_h, out_w):
    return cv2.resize(img.transpose(1, 2, 0), (out_w, out_h), interpolation=cv2.INTER_AREA).reshape(out_h, out_w, -1).transpose(2, 0, 1)


mtcnn_reference.area_resize = area_resize

video, models = sys.argv[1], sys.argv[2]
opts = ort.SessionOptions()
opts.intra_op_num_threads = 2
session = lambda name: ort.InferenceSession(os.path.join(models, name), opts, providers=["CPUExecutionProvider"])
nsfw, topic = session("open-nsfw.onnx"), session("efficientnet-lite0.onnx")
nets = [session(f"mtcnn-{n}.onnx") for n in ("pnet", "rnet", "onet")]
ocr = RapidOCR(params={"Global.log_level": "error", "Det.limit_type": "max", "Det.limit_side_len": 960,
                       "EngineConfig.onnxruntime.intra_op_num_threads": 2})

frames = faces = lines = 0
with av.open(video) as container:
    stream = container.streams.video[0]
    stream.codec_context.skip_frame = "NONKEY"
    for frame in container.decode(stream):
        w, h = frame.width, frame.height
        a = frame.to_ndarray(width=256, height=256, format="rgb24").astype(np.float32)[16:240, 16:240]
        nsfw.run(None, {nsfw.get_inputs()[0].name: (a[:, :, ::-1] - np.array([104, 117, 123], np.float32))[None]})
        side = min(w, h)
        crop = int(side * 224 / 256)
        rgb = frame.to_ndarray(format="rgb24")
        sq = np.ascontiguousarray(rgb[(h - crop) // 2:(h + crop) // 2, (w - crop) // 2:(w + crop) // 2])
        b = cv2.resize(sq, (224, 224), interpolation=cv2.INTER_CUBIC).astype(np.float32)
        topic.run(None, {"input": ((b - 127) / 128).transpose(2, 0, 1)[None]})
        small = frame.to_ndarray(width=640, height=max(2, round(640 * h / w / 2) * 2), format="rgb24")
        faces += len(mtcnn_reference.detect(small, *nets))
        result = ocr(rgb[:, :, ::-1])
        lines += len(result.txts or [])
        frames += 1
print(frames, faces, lines)
