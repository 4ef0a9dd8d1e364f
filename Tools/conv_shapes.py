"""Single-Conv ONNX models, one per distinct Conv shape of a model, for the
GEMM GFLOP/s row of `make bench` (issue: speed).

usage: conv_shapes.py MODEL.onnx OUT_DIR
Writes OUT_DIR/convNN.onnx (random weights from a fixed seed, same attributes,
shape and bias as the model's Conv; activations are not included) and prints
one JSON line per file: {"file", "shape", "gflop"}.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference


def main():
    model_path, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    m = shape_inference.infer_shapes(onnx.load(model_path))
    g = m.graph
    dims = {}
    for v in list(g.value_info) + list(g.input) + list(g.output):
        t = v.type.tensor_type
        dims[v.name] = [d.dim_value if d.dim_value > 0 else 1 for d in t.shape.dim]
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    rng = np.random.default_rng(7)
    seen = set()
    for node in g.node:
        if node.op_type != "Conv":
            continue
        x = dims.get(node.input[0])
        w = inits.get(node.input[1])
        if x is None or w is None:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        key = (tuple(x), w.shape, json.dumps({k: (v.decode() if isinstance(v, bytes) else v) for k, v in sorted(attrs.items())}))
        if key in seen:
            continue
        seen.add(key)
        y = dims[node.output[0]]
        weights = [numpy_helper.from_array(rng.standard_normal(w.shape).astype(np.float32) * 0.05, "w")]
        inputs = ["x", "w"]
        if len(node.input) > 2 and node.input[2]:
            weights.append(numpy_helper.from_array(rng.standard_normal(w.shape[0]).astype(np.float32), "b"))
            inputs.append("b")
        conv = helper.make_node("Conv", inputs, ["y"], **attrs)
        graph = helper.make_graph([conv], "conv", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, x)],
                                  [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, y)], weights)
        single = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        single.ir_version = 8
        path = os.path.join(out_dir, f"conv{len(seen):02d}.onnx")
        onnx.save(single, path)
        macs = int(np.prod(y)) * int(np.prod(w.shape[1:]))
        desc = f"{x[1]}x{x[2]}x{x[3]} -> {y[1]}x{y[2]}x{y[3]} k{w.shape[2]}x{w.shape[3]}"
        if attrs.get("strides", [1, 1])[0] > 1:
            desc += f" s{attrs['strides'][0]}"
        if attrs.get("group", 1) > 1:
            desc += f" g{attrs['group']}"
        print(json.dumps({"file": path, "shape": desc, "gflop": 2 * macs / 1e9}))


if __name__ == "__main__":
    main()
