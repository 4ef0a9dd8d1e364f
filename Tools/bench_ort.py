#!/usr/bin/env python3
"""onnxruntime latency for `make bench`: same JSON fields as `vidlabel bench-model`.
Usage: bench_ort.py MODEL.onnx BATCH THREADS RUNS [WxH]  (WxH: the picture size of a model that takes any)"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort

path, batch, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
size = [int(v) for v in sys.argv[5].split("x")] if len(sys.argv) > 5 else None
opts = ort.SessionOptions()
opts.intra_op_num_threads = threads
opts.inter_op_num_threads = 1
sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
inp = sess.get_inputs()[0]
# Dynamic dimensions: the batch first, then height and width from WxH.
shape = [d if isinstance(d, int) else batch if i == 0 else size[1] if i == 2 else size[0] for i, d in enumerate(inp.shape)]
x = np.random.default_rng(42).uniform(-1, 1, shape).astype(np.float32)
for _ in range(3):
    sess.run(None, {inp.name: x})
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    sess.run(None, {inp.name: x})
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(json.dumps({"model": path, "batch": batch, "threads": threads, "runs": runs,
                  "median_ms": round(times[len(times) // 2], 3), "min_ms": round(times[0], 3), "max_ms": round(times[-1], 3)}))
