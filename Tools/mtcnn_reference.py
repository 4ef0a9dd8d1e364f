#!/usr/bin/env python3
"""MTCNN face detection as facenet-pytorch 2.6.0's detect_face runs it, in numpy
over onnxruntime and our converted nets (build time only: the golden faces the
Swift cascade is tested against). Defaults: min face 20 px, thresholds
0.6/0.7/0.7, pyramid factor 0.709, as facenet-pytorch's MTCNN().

Differences from facenet-pytorch, none of which changes a result: float32 numpy
instead of torch; torchvision's batched_nms becomes a plain greedy NMS (one image).
"""
import numpy as np


def area_resize(img, out_h, out_w):
    """PyTorch interpolate(mode="area") = adaptive average pooling. img: [C,H,W] float32."""
    c, h, w = img.shape
    ys = [(i * h // out_h, -(-(i + 1) * h // out_h)) for i in range(out_h)]
    xs = [(i * w // out_w, -(-(i + 1) * w // out_w)) for i in range(out_w)]
    out = np.empty((c, out_h, out_w), np.float32)
    for i, (y0, y1) in enumerate(ys):
        for j, (x0, x1) in enumerate(xs):
            out[:, i, j] = img[:, y0:y1, x0:x1].mean(axis=(1, 2))
    return out


def nms(boxes, scores, threshold, method="Union"):
    """Greedy NMS; Union: torchvision's IoU (no +1); Min: facenet's nms_numpy (+1)."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    one = 1.0 if method == "Min" else 0.0
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x2 - x1 + one) * (y2 - y1 + one)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    keep, dead = [], np.zeros(len(scores), bool)
    for r, i in enumerate(order):
        if dead[i]:
            continue
        keep.append(i)
        rest = np.array([j for j in order[r + 1:] if not dead[j]], np.int64)
        if len(rest) == 0:
            continue
        w = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + one)
        h = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + one)
        inter = w * h
        o = inter / np.minimum(area[i], area[rest]) if method == "Min" else inter / (area[i] + area[rest] - inter)
        dead[rest[o > threshold]] = True
    return np.array(keep, np.int64)


def rerec(b):
    b = b.copy()
    h, w = b[:, 3] - b[:, 1], b[:, 2] - b[:, 0]
    l = np.maximum(w, h)
    b[:, 0] += w * 0.5 - l * 0.5
    b[:, 1] += h * 0.5 - l * 0.5
    b[:, 2:4] = b[:, 0:2] + l[:, None]
    return b


def bbreg(b, reg):
    b = b.copy()
    w, h = b[:, 2] - b[:, 0] + 1, b[:, 3] - b[:, 1] + 1
    b[:, 0] += reg[:, 0] * w
    b[:, 1] += reg[:, 1] * h
    b[:, 2] += reg[:, 2] * w
    b[:, 3] += reg[:, 3] * h
    return b


def crops(img, boxes, size):
    _, h, w = img.shape
    t = np.trunc(boxes[:, :4]).astype(np.int64)
    x, y = np.maximum(t[:, 0], 1), np.maximum(t[:, 1], 1)
    ex, ey = np.minimum(t[:, 2], w), np.minimum(t[:, 3], h)
    ok = (ex > x - 1) & (ey > y - 1)
    data = [area_resize(img[:, y[k] - 1:ey[k], x[k] - 1:ex[k]], size, size) for k in range(len(boxes)) if ok[k]]
    return ok, (np.stack(data) - 127.5) * 0.0078125 if data else None


def detect(rgb, pnet, rnet, onet, minsize=20, thresholds=(0.6, 0.7, 0.7), factor=0.709):
    """rgb: uint8 [H,W,3]. Returns [N,5] float32 boxes (x1, y1, x2, y2, score), best first."""
    img = rgb.astype(np.float32).transpose(2, 0, 1)
    _, h, w = img.shape
    m = 12.0 / minsize
    minl = min(h, w) * m
    scales, s = [], m
    while minl >= 12:
        scales.append(s)
        s *= factor
        minl *= factor
    boxes = []
    for scale in scales:
        x = (area_resize(img, int(h * scale + 1), int(w * scale + 1)) - 127.5) * 0.0078125
        reg, probs = pnet.run(["offsets", "probs"], {"input": x[None]})
        p = probs[0, 1]
        ys, xs = np.nonzero(p >= thresholds[0])
        if len(ys) == 0:
            continue
        bb = np.stack([xs, ys], 1).astype(np.float32)
        q1 = np.floor((2 * bb + 1) / np.float32(scale))
        q2 = np.floor((2 * bb + 12) / np.float32(scale))
        level = np.concatenate([q1, q2, p[ys, xs][:, None], reg[0][:, ys, xs].T], 1).astype(np.float32)
        boxes.append(level[nms(level[:, :4], level[:, 4], 0.5)])
    if not boxes:
        return np.zeros((0, 5), np.float32)
    boxes = np.concatenate(boxes)
    boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
    regw, regh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    boxes = np.stack([boxes[:, 0] + boxes[:, 5] * regw, boxes[:, 1] + boxes[:, 6] * regh,
                      boxes[:, 2] + boxes[:, 7] * regw, boxes[:, 3] + boxes[:, 8] * regh, boxes[:, 4]], 1)
    boxes = rerec(boxes)
    for net, size, thr, last in ((rnet, 24, thresholds[1], False), (onet, 48, thresholds[2], True)):
        ok, data = crops(img, boxes, size)
        if data is None:
            return np.zeros((0, 5), np.float32)
        boxes = boxes[ok]
        out = dict(zip([o.name for o in net.get_outputs()], net.run(None, {"input": data.astype(np.float32)})))
        score = out["probs"][:, 1]
        keep = score > thr
        boxes = np.concatenate([boxes[keep, :4], score[keep, None]], 1)
        mv = out["offsets"][keep]
        if not last:
            pick = nms(boxes[:, :4], boxes[:, 4], 0.7)
            boxes = rerec(bbreg(boxes[pick], mv[pick]))
        else:
            boxes = bbreg(boxes, mv)
            boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7, "Min")]
    return boxes.astype(np.float32)
