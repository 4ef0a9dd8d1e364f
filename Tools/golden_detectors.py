#!/usr/bin/env python3
"""Golden outputs of the OCR and NudeNet graphs: onnxruntime (build time only) on
real photos, each graph at two or more input sizes, in the format of the MTCNN
cases (Tools/golden.py): one file per case, a JSON header line, the float32
input, then every output in graph order.

- PP-OCR detection on the scanned page (printed text) and on the coffee photo
  (no text), sides multiples of 32 as the detector wants them;
- PP-OCR recognition on the page's title line at widths 320 and 160 (height 48),
  and the orientation classifier on that line and on it turned upside down;
- NudeNet 320n on the astronaut (a face) and chelsea (a cat) at 320x320 and 416x256.

Usage: golden_detectors.py MODELS_DIR OUT_DIR
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

from golden import write_case


def chw(img, size, mean, std):
    """RGB picture resized to size (w, h), (x / 255 - mean) / std, CHW."""
    x = np.asarray(img.convert("RGB").resize(size, Image.BILINEAR), np.float32) / 255.0
    return ((x - mean) / std).transpose(2, 0, 1)


def ocr_input(img, size):
    # PP-OCR's detection and recognition normalisation: (x / 255 - 0.5) / 0.5.
    return chw(img, size, 0.5, 0.5)


def main():
    models, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    samples = os.path.join(models, "samples")
    page = Image.open(os.path.join(samples, "page.png")).convert("RGB")
    coffee = Image.open(os.path.join(samples, "coffee.png")).convert("RGB")
    astronaut = Image.open(os.path.join(samples, "astronaut.png")).convert("RGB")
    chelsea = Image.open(os.path.join(samples, "chelsea.png")).convert("RGB")
    # The page's title line, "Region-based segmentation" (rows 5-38 of 191).
    title = page.crop((0, 5, 300, 38))
    cases = [
        ("ppocr-det", "page-384x192", np.stack([ocr_input(page, (384, 192))])),
        ("ppocr-det", "coffee-320x224", np.stack([ocr_input(coffee, (320, 224))])),
        ("ppocr-rec", "title-320x48", np.stack([ocr_input(title, (320, 48))])),
        ("ppocr-rec", "title-160x48", np.stack([ocr_input(title, (160, 48))])),
        ("ppocr-cls", "title-192x48", np.stack([ocr_input(title, (192, 48)),
                                                ocr_input(title.rotate(180), (192, 48))])),
        ("nudenet-320n", "astronaut-chelsea-320x320", np.stack([chw(astronaut, (320, 320), 0, 1), chw(chelsea, (320, 320), 0, 1)])),
        ("nudenet-320n", "astronaut-416x256", np.stack([chw(astronaut, (416, 256), 0, 1)])),
    ]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    for model, case, x in cases:
        path = os.path.join(models, "optional" if model.startswith("nudenet") else "", model + ".onnx")
        sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        ys = [y.astype(np.float32) for y in sess.run(names, {sess.get_inputs()[0].name: x.astype(np.float32)})]
        write_case(out, model, case, x, names, ys)
        y = ys[0]
        print(f"golden: {model:14s} {case:28s} output {list(y.shape)} range {y.min():.4f}..{y.max():.4f}")


if __name__ == "__main__":
    main()
