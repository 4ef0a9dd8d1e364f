#!/usr/bin/env python3
"""Malformed ONNX models for the hostile-input campaign (build time only).

Two kinds, both deterministic:
- `structural_variants()`: named models, each breaking one rule a parser of
  untrusted models must check (axes, input counts, shapes, sizes, topology, data).
  Every finding of the fuzzing that motivated this is one of them.
- `random_variants(n, seed)`: the tiny base model with random attribute, shape,
  wiring and op-type mutations, plus byte-level damage of its serialization.

Each returns (name, bytes). A valid-but-odd model is allowed: the campaign only
requires a clean outcome (exit 0, or exit 1 with one line naming the file).
"""
import copy
import random

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
INT64_MAX = 2**63 - 1


def tensor(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def base_graph(batch=1, size=16):
    """x [N,3,S,S] -> Conv 3x3 (8) -> Relu -> MaxPool 2 -> Conv 1x1 (8) -> BN -> GAP -> Flatten -> Gemm (5) -> Softmax."""
    rng = np.random.default_rng(7)
    inits = [
        tensor("w1", rng.standard_normal((8, 3, 3, 3)) * 0.1), tensor("b1", rng.standard_normal(8) * 0.1),
        tensor("w2", rng.standard_normal((8, 8, 1, 1)) * 0.1),
        tensor("bn_s", np.ones(8)), tensor("bn_b", np.zeros(8)), tensor("bn_m", np.zeros(8)), tensor("bn_v", np.ones(8)),
        tensor("fc_w", rng.standard_normal((8, 5)) * 0.1), tensor("fc_b", np.zeros(5)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], name="conv2", kernel_shape=[1, 1]),
        helper.make_node("BatchNormalization", ["c2", "bn_s", "bn_b", "bn_m", "bn_v"], ["bn"], name="bn1"),
        helper.make_node("GlobalAveragePool", ["bn"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], name="fc"),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=1),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch if batch else "N", 3, size, size])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    return helper.make_graph(nodes, "base", [x], [y], inits)


def model(graph, opset=OPSET):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="vidlabel-fuzz")
    m.ir_version = 8
    return m


def node(g, name):
    return next(n for n in g.node if n.name == name)


def set_attr(n, key, value):
    for a in list(n.attribute):
        if a.name == key:
            n.attribute.remove(a)
    n.attribute.append(helper.make_attribute(key, value))


def init(g, name, array):
    for t in list(g.initializer):
        if t.name == name:
            g.initializer.remove(t)
    g.initializer.append(tensor(name, array))


def structural_variants():
    """(name, ModelProto or bytes) for every rule; the issue's findings first."""
    out = []

    def variant(name):
        def wrap(f):
            g = base_graph()
            result = f(g)
            out.append((name, result if result is not None else model(g)))
            return f
        return wrap

    @variant("flatten_axis_out_of_range")
    def _(g): set_attr(node(g, "flatten"), "axis", 9)

    @variant("softmax_axis_out_of_range")
    def _(g): set_attr(node(g, "softmax"), "axis", -7)

    @variant("concat_axis_out_of_range")
    def _(g):
        g.node.insert(6, helper.make_node("Concat", ["g", "g"], ["gc"], name="cat", axis=5))
        node(g, "flatten").input[0] = "gc"
        init(g, "fc_w", np.zeros((16, 5)))

    @variant("concat_dims_mismatch")
    def _(g):
        g.node.insert(6, helper.make_node("Concat", ["g", "x"], ["gc"], name="cat", axis=1))
        node(g, "flatten").input[0] = "gc"

    @variant("add_with_one_input")
    def _(g):
        g.node.insert(2, helper.make_node("Add", ["r1"], ["r1a"], name="add1"))
        node(g, "pool1").input[0] = "r1a"

    @variant("batchnorm_with_two_inputs")
    def _(g): del node(g, "bn1").input[2:]

    @variant("reshape_without_shape")
    def _(g):
        n = node(g, "flatten")
        n.op_type = "Reshape"
        del n.attribute[:]

    @variant("node_without_outputs")
    def _(g):
        g.node.insert(1, helper.make_node("Relu", ["c1"], [], name="dangling"))

    @variant("conv_kernel_0x0")
    def _(g):
        init(g, "w1", np.zeros((8, 3, 0, 0)))
        set_attr(node(g, "conv1"), "kernel_shape", [0, 0])

    @variant("graph_without_outputs")
    def _(g): del g.output[:]

    @variant("pads_100000")
    def _(g): set_attr(node(g, "conv1"), "pads", [100000] * 4)

    @variant("input_50000x50000")
    def _(g):
        g.input[0].type.tensor_type.shape.dim[2].dim_value = 50000
        g.input[0].type.tensor_type.shape.dim[3].dim_value = 50000

    @variant("input_dim_int64_max")
    def _(g): g.input[0].type.tensor_type.shape.dim[2].dim_value = INT64_MAX

    @variant("batchnorm_3_params_after_32_filter_conv")
    def _(g):
        init(g, "w2", np.zeros((32, 8, 1, 1)))
        for p in ("bn_s", "bn_b", "bn_m", "bn_v"):
            init(g, p, np.ones(3))

    @variant("gemm_bias_of_7")
    def _(g): init(g, "fc_b", np.zeros(7))

    @variant("strides_zero")
    def _(g): set_attr(node(g, "conv1"), "strides", [0, 0])

    @variant("dilations_negative")
    def _(g): set_attr(node(g, "conv1"), "dilations", [-1, -1])

    @variant("group_not_dividing")
    def _(g): set_attr(node(g, "conv1"), "group", 5)

    @variant("group_huge")
    def _(g): set_attr(node(g, "conv2"), "group", 2**40)

    @variant("reshape_two_minus_ones")
    def _(g):
        n = node(g, "flatten")
        n.op_type = "Reshape"
        del n.attribute[:]
        n.input.append("shape")
        g.initializer.append(numpy_helper.from_array(np.array([-1, -1], dtype=np.int64), "shape"))

    @variant("reshape_wrong_count")
    def _(g):
        n = node(g, "flatten")
        n.op_type = "Reshape"
        del n.attribute[:]
        n.input.append("shape")
        g.initializer.append(numpy_helper.from_array(np.array([3, 7], dtype=np.int64), "shape"))

    @variant("reshape_shape_int64_max")
    def _(g):
        n = node(g, "flatten")
        n.op_type = "Reshape"
        del n.attribute[:]
        n.input.append("shape")
        g.initializer.append(numpy_helper.from_array(np.array([INT64_MAX, 1], dtype=np.int64), "shape"))

    @variant("node_reads_its_own_output")
    def _(g): node(g, "relu1").input[0] = "r1"

    @variant("value_defined_twice")
    def _(g): node(g, "relu1").output[0] = "c1"

    @variant("input_never_defined")
    def _(g): node(g, "pool1").input[0] = "nowhere"

    @variant("nodes_out_of_order")
    def _(g):
        first = copy.deepcopy(g.node[0])
        del g.node[0]
        g.node.append(first)

    @variant("clip_bounds_dynamic")
    def _(g):
        n = node(g, "relu1")
        n.op_type = "Clip"
        n.input.extend(["x", ""])

    @variant("gemm_inner_mismatch")
    def _(g): init(g, "fc_w", np.zeros((9, 5)))

    @variant("matmul_rank_1")
    def _(g):
        n = node(g, "fc")
        n.op_type = "MatMul"
        del n.input[2]
        init(g, "fc_w", np.zeros(8))

    @variant("unknown_op")
    def _(g): node(g, "relu1").op_type = "Frobnicate"

    @variant("custom_domain_op")
    def _(g): node(g, "relu1").domain = "com.example"

    @variant("opset_1000")
    def _(g): return model(g, opset=1000)

    @variant("external_data")
    def _(g):
        t = next(t for t in g.initializer if t.name == "w1")
        t.data_location = TensorProto.EXTERNAL
        t.ClearField("raw_data")
        e = t.external_data.add()
        e.key, e.value = "location", "/etc/passwd"

    @variant("initializer_huge_dims_no_data")
    def _(g):
        t = next(t for t in g.initializer if t.name == "w1")
        del t.dims[:]
        t.dims.extend([2**31, 2**31, 3, 3])

    @variant("initializer_int64_max_dim")
    def _(g):
        t = next(t for t in g.initializer if t.name == "b1")
        del t.dims[:]
        t.dims.extend([INT64_MAX])

    @variant("initializer_raw_data_short")
    def _(g):
        t = next(t for t in g.initializer if t.name == "w1")
        t.raw_data = t.raw_data[:10]

    @variant("initializer_negative_dim")
    def _(g):
        t = next(t for t in g.initializer if t.name == "b1")
        del t.dims[:]
        t.dims.extend([-8])

    @variant("initializer_double_type")
    def _(g):
        t = next(t for t in g.initializer if t.name == "b1")
        t.data_type = TensorProto.DOUBLE

    @variant("kernel_shape_as_floats")
    def _(g): set_attr(node(g, "conv1"), "kernel_shape", [3.0, 3.0])

    @variant("kernel_shape_mismatch")
    def _(g): set_attr(node(g, "conv1"), "kernel_shape", [5, 5])

    @variant("alpha_nan")
    def _(g): set_attr(node(g, "fc"), "alpha", float("nan"))

    @variant("auto_pad_unknown")
    def _(g): set_attr(node(g, "conv1"), "auto_pad", "SOMETIMES")

    @variant("empty_graph")
    def _(g):
        del g.node[:]
        del g.initializer[:]

    @variant("no_opset_import")
    def _(g):
        m = model(g)
        del m.opset_import[:]
        return m

    @variant("constant_without_value")
    def _(g):
        g.node.insert(0, helper.make_node("Constant", [], ["k"], name="const"))

    @variant("transpose_bad_perm")
    def _(g):
        g.node.insert(1, helper.make_node("Transpose", ["c1"], ["t1"], name="tr", perm=[0, 0, 1, 2]))
        node(g, "relu1").input[0] = "t1"

    @variant("maxpool_kernel_larger_than_input")
    def _(g): set_attr(node(g, "pool1"), "kernel_shape", [64, 64])

    @variant("maxpool_indices_output")
    def _(g): node(g, "pool1").output.append("indices")

    @variant("maxpool_no_kernel_shape")
    def _(g):
        n = node(g, "pool1")
        for a in list(n.attribute):
            if a.name == "kernel_shape":
                n.attribute.remove(a)

    @variant("conv_weights_dynamic")
    def _(g):
        t = next(t for t in g.initializer if t.name == "w1")
        g.initializer.remove(t)
        g.input.append(helper.make_tensor_value_info("w1", TensorProto.FLOAT, [8, 3, 3, 3]))

    @variant("conv_input_rank_3")
    def _(g):
        dims = g.input[0].type.tensor_type.shape.dim
        del dims[3]

    @variant("input_rank_0")
    def _(g):
        del g.input[0].type.tensor_type.shape.dim[:]

    @variant("input_int64_type")
    def _(g): g.input[0].type.tensor_type.elem_type = TensorProto.INT64

    @variant("batchnorm_training_outputs")
    def _(g): node(g, "bn1").output.extend(["m_out", "v_out"])

    @variant("batchnorm_epsilon_negative")
    def _(g): set_attr(node(g, "bn1"), "epsilon", -1.0)

    @variant("softmax_huge_axis")
    def _(g): set_attr(node(g, "softmax"), "axis", 2**62)

    @variant("concat_4097_inputs")
    def _(g):
        g.node.insert(6, helper.make_node("Concat", ["g"] * 4097, ["gc"], name="cat", axis=1))
        node(g, "flatten").input[0] = "gc"

    @variant("deep_chain_20000_relus")
    def _(g):
        relu = node(g, "relu1")
        previous = "c1"
        chain = []
        for i in range(20000):
            chain.append(helper.make_node("Relu", [previous], [f"d{i}"], name=f"deep{i}"))
            previous = f"d{i}"
        relu.input[0] = previous
        i = list(g.node).index(relu)
        for k, n in enumerate(chain):
            g.node.insert(i + k, n)

    @variant("output_name_empty")
    def _(g): g.output[0].name = ""

    @variant("constant_conv_too_big_to_fold")
    def _(g):
        init(g, "big", np.zeros((1, 64, 256, 256)))
        init(g, "bw", np.zeros((64, 64, 3, 3)))
        g.node.insert(0, helper.make_node("Conv", ["big", "bw"], ["folded"], name="fold", kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        g.output.append(helper.make_tensor_value_info("folded", TensorProto.FLOAT, None))

    @variant("protobuf_truncated")
    def _(g): return model(g).SerializeToString()[:700]

    @variant("protobuf_garbage")
    def _(g): return bytes(random.Random(5).getrandbits(8) for _ in range(4096))

    @variant("empty_file")
    def _(g): return b""

    return [(name, m if isinstance(m, bytes) else m.SerializeToString()) for name, m in out]


# Values that break parsers: signs, zero, limits of 32 and 64 bits.
INTERESTING = [0, 1, -1, 2, 3, 7, 255, 65536, 100000, 2**31 - 1, -(2**31), 2**32, 2**40, INT64_MAX, -(2**63)]


def random_variants(count, seed):
    """`count` mutants of the base model, deterministic for `seed`."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        g = base_graph(batch=rng.choice([1, 0]), size=rng.choice([8, 16, 33]))
        kind = rng.randrange(7)
        try:
            if kind == 0:  # an attribute set to an interesting value (int, list or float)
                n = rng.choice(list(g.node))
                key = rng.choice(["axis", "kernel_shape", "strides", "pads", "dilations", "group", "transB", "alpha", "ceil_mode", "perm"])
                v = rng.choice(INTERESTING)
                if key in ("kernel_shape", "strides", "dilations"):
                    set_attr(n, key, [v, rng.choice(INTERESTING)])
                elif key in ("pads", "perm"):
                    set_attr(n, key, [rng.choice(INTERESTING) for _ in range(rng.choice([1, 2, 4, 5]))])
                elif key == "alpha":
                    set_attr(n, key, rng.choice([float("nan"), float("inf"), 1e30, -0.0]))
                else:
                    set_attr(n, key, v)
            elif kind == 1:  # an initializer's dims changed (data kept)
                t = rng.choice(list(g.initializer))
                dims = list(t.dims)
                if dims:
                    dims[rng.randrange(len(dims))] = rng.choice(INTERESTING)
                else:
                    dims = [rng.choice(INTERESTING)]
                del t.dims[:]
                t.dims.extend(dims)
            elif kind == 2:  # an input dropped, duplicated or rewired
                n = rng.choice(list(g.node))
                values = [v for m in g.node for v in m.output] + ["x"] + [t.name for t in g.initializer]
                op = rng.randrange(3)
                if op == 0 and n.input:
                    del n.input[rng.randrange(len(n.input))]
                elif op == 1:
                    n.input.append(rng.choice(values))
                elif n.input:
                    n.input[rng.randrange(len(n.input))] = rng.choice(values + [""])
            elif kind == 3:  # an op type swapped for another supported one
                n = rng.choice(list(g.node))
                n.op_type = rng.choice(["Conv", "Relu", "Clip", "Add", "Mul", "Sigmoid", "MaxPool", "AveragePool", "GlobalAveragePool",
                                        "MatMul", "Gemm", "Reshape", "Flatten", "Transpose", "Softmax", "Concat", "Identity", "BatchNormalization"])
            elif kind == 4:  # the graph input's shape changed
                d = g.input[0].type.tensor_type.shape.dim
                j = rng.randrange(len(d))
                d[j].dim_value = max(0, rng.choice(INTERESTING))
            elif kind == 5:  # nodes reordered
                nodes = [copy.deepcopy(n) for n in g.node]
                a, b = rng.randrange(len(nodes)), rng.randrange(len(nodes))
                nodes[a], nodes[b] = nodes[b], nodes[a]
                del g.node[:]
                g.node.extend(nodes)
            data = model(g).SerializeToString()
            if kind == 6:  # byte damage of a valid serialization
                data = bytearray(data)
                for _ in range(rng.randint(1, 16)):
                    data[rng.randrange(len(data))] = rng.getrandbits(8)
                if rng.random() < 0.3:
                    data = data[: rng.randrange(len(data))]
                data = bytes(data)
        except Exception:  # a mutation onnx itself refuses to build: serialize what we have
            data = model(base_graph()).SerializeToString()
        out.append((f"random_{i:04d}_kind{kind}", data))
    return out
