#!/usr/bin/env python3
"""Golden outputs: runs onnxruntime (build time only) on real photos with each
model's preprocessing and writes the input tensors and expected outputs.

Output: DIR/<model>.bin, little-endian: a JSON header line (shapes, names),
then the float32 input tensor, then the float32 output tensor.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import onnxruntime as ort
from PIL import Image

PHOTOS = ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png", "camera.png"]


def centre_crop_resize(img, fraction, size, resample):
    """Centre square of side fraction*shorter side, resized to size x size."""
    w, h = img.size
    side = min(w, h) * fraction
    left, top = (w - side) / 2, (h - side) / 2
    return img.resize((size, size), resample, box=(left, top, left + side, top + side))


def topic_input(img, model):
    x = np.asarray(centre_crop_resize(img, 224 / 256, 224, Image.BICUBIC), np.float32)
    if model == "efficientnet-lite0":
        x = (x - 127.0) / 128.0
    else:
        x = (x / 255.0 - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return x.transpose(2, 0, 1)  # HWC -> CHW


def nsfw_input(img):
    # Yahoo's recipe: stretch to 256x256, centre 224x224, BGR, minus the Caffe mean.
    x = np.asarray(img.resize((256, 256), Image.BILINEAR), np.float32)[16:240, 16:240]
    return x[:, :, ::-1] - np.array([104, 117, 123], np.float32)


def main():
    models, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    photos = [Image.open(os.path.join(models, "samples", p)).convert("RGB") for p in PHOTOS]
    names = open(os.path.join(models, "imagenet-classes.txt")).read().splitlines()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    for model in ("open-nsfw", "efficientnet-lite0", "mobilenet-v2"):
        sess = ort.InferenceSession(os.path.join(models, model + ".onnx"), opts, providers=["CPUExecutionProvider"])
        if model == "open-nsfw":
            x = np.stack([nsfw_input(p) for p in photos]).astype(np.float32)
        else:
            x = np.stack([topic_input(p, model) for p in photos]).astype(np.float32)
        inp = sess.get_inputs()[0].name
        outp = sess.get_outputs()[0].name
        y = sess.run([outp], {inp: x})[0].astype(np.float32)
        header = {"model": model, "photos": PHOTOS, "input": inp, "input_shape": list(x.shape),
                  "output": outp, "output_shape": list(y.shape)}
        with open(os.path.join(out, model + ".bin"), "wb") as f:
            f.write((json.dumps(header) + "\n").encode())
            f.write(np.ascontiguousarray(x).astype("<f4").tobytes())
            f.write(np.ascontiguousarray(y).astype("<f4").tobytes())
        for photo, row in zip(PHOTOS, y):
            if model == "open-nsfw":
                print(f"golden: {model:20s} {photo:14s} nsfw={row[1]:.4f}")
            else:
                top = np.argsort(-row)[:3]
                print(f"golden: {model:20s} {photo:14s} " + ", ".join(f"{names[i]} {row[i]:.3f}" for i in top))
    mtcnn_golden(models, out, photos)
    face_golden(models, out, photos)


def write_case(out, model, case, x, names, ys):
    """A multi-output golden case (Tests/InferenceTests/Support.swift reads it): a JSON
    header line, the float32 input, then every output in graph order."""
    header = {"model": model, "case": case, "input_shape": list(x.shape),
              "outputs": [{"name": n, "shape": list(y.shape)} for n, y in zip(names, ys)]}
    with open(os.path.join(out, f"{model}-{case}.bin"), "wb") as f:
        f.write((json.dumps(header) + "\n").encode())
        f.write(np.ascontiguousarray(x).astype("<f4").tobytes())
        for y in ys:
            f.write(np.ascontiguousarray(y).astype("<f4").tobytes())


def mtcnn_input(img, box, size):
    """A crop of img (box: left, top, right, bottom) at size (w, h), RGB, (x - 127.5) / 128, CHW."""
    x = np.asarray(img.crop(box).resize(size, Image.BILINEAR), np.float32)
    return ((x - 127.5) / 128.0).transpose(2, 0, 1)


def mtcnn_golden(models, out, photos):
    """MTCNN's three nets on real photos: P-Net on whole photos at several sizes (odd,
    not square), R-Net and O-Net on crops with and without a face. One file per case:
    a JSON header line, the input, then every output in graph order."""
    astronaut, chelsea, coffee = (photos[PHOTOS.index(p)] for p in ("astronaut.png", "chelsea.png", "coffee.png"))
    crops = [(astronaut, (165, 75, 265, 195)), (astronaut, (300, 300, 400, 400)),
             (chelsea, (100, 50, 250, 200)), (coffee, (200, 100, 330, 230))]
    cases = [
        ("pnet", "astronaut-256x256", np.stack([mtcnn_input(astronaut, (0, 0, 512, 512), (256, 256))])),
        ("pnet", "astronaut-203x147", np.stack([mtcnn_input(astronaut, (0, 0, 512, 512), (203, 147))])),
        ("pnet", "coffee-chelsea-61x45", np.stack([mtcnn_input(im, (0, 0) + im.size, (61, 45)) for im in (coffee, chelsea)])),
        ("rnet", "crops", np.stack([mtcnn_input(im, box, (24, 24)) for im, box in crops])),
        ("onet", "crops", np.stack([mtcnn_input(im, box, (48, 48)) for im, box in crops])),
    ]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    for net, case, x in cases:
        model = "mtcnn-" + net
        sess = ort.InferenceSession(os.path.join(models, model + ".onnx"), opts, providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        ys = [y.astype(np.float32) for y in sess.run(names, {"input": x.astype(np.float32)})]
        write_case(out, model, case, x, names, ys)
        probs = ys[names.index("probs")]
        print(f"golden: {model:20s} {case:22s} face probability max {probs[:, 1].max():.4f}")


def face_golden(models, out, photos):
    """The whole MTCNN cascade (Tools/mtcnn_reference.py, facenet-pytorch's algorithm)
    on each photo, and on the astronaut at 0.6 scale: a JSON header line with the
    boxes, then the picture's RGB bytes."""
    import mtcnn_reference
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    nets = [ort.InferenceSession(os.path.join(models, f"mtcnn-{n}.onnx"), opts, providers=["CPUExecutionProvider"])
            for n in ("pnet", "rnet", "onet")]
    pictures = list(zip(PHOTOS, photos))
    astronaut = photos[PHOTOS.index("astronaut.png")]
    pictures.append(("astronaut-307.png", astronaut.resize((307, 307), Image.BILINEAR)))
    for name, img in pictures:
        rgb = np.asarray(img, np.uint8)
        boxes = mtcnn_reference.detect(rgb, *nets)
        header = {"photo": name, "width": img.size[0], "height": img.size[1],
                  "boxes": [[round(float(v), 3) for v in b] for b in boxes]}
        with open(os.path.join(out, "faces-" + os.path.splitext(name)[0] + ".bin"), "wb") as f:
            f.write((json.dumps(header) + "\n").encode())
            f.write(rgb.tobytes())
        print(f"golden: mtcnn faces         {name:20s} " + ("; ".join(
            f"({b[0]:.0f},{b[1]:.0f})-({b[2]:.0f},{b[3]:.0f}) {b[4]:.3f}" for b in boxes) or "none"))


if __name__ == "__main__":
    main()
