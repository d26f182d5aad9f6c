#!/usr/bin/env python3
"""Writes the ONNX import fixtures of Hessian Atlas (common/src/test/resources/onnx).

Each good case is a small MLP with fixed seeds, written three ways from the same weights:

    <case>/op<N>.onnx          torch.onnx.export at opset N (e_gelu_op20: the onnx package, below)
    <case>/model/              its native twin: model.json + weights.safetensors (F32 for a float32
                               model, F64 for a float64 one), the format NativeModelReader reads
    <case>/data.jsonl          {"id", "features", "label"} per line, as the oracle inputs

and bad/*.onnx are graphs the reader must refuse, each naming a node.

Run from this folder with Debian 12's packages (python3-torch 1.13, python3-onnx 1.12):

    apt-get install -y python3-torch python3-onnx
    /usr/bin/python3 make_fixtures.py

torch 1.13 exports opsets up to 17 without the onnx package; below opset 20 it writes
nn.GELU(approximate='tanh') as Mul/Add/Tanh nodes and nn.GELU() with Erf. Opset 20's Gelu node
is written with onnx.helper (e_gelu_op20), since this torch cannot target it.
"""
import json
import os
import struct

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = 12


class MatMulLinear(nn.Module):
    """A layer written as x @ Wᵀ + b: torch.onnx exports it as MatMul + Add (not Gemm)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        lin = nn.Linear(n_in, n_out)
        self.weight = lin.weight
        self.bias = lin.bias

    def forward(self, x):
        return torch.matmul(x, self.weight.t()) + self.bias


def write_safetensors(path, tensors, dtype):
    """The safetensors layout: 8-byte little-endian header length, JSON header, raw little-endian data."""
    header, blobs, offset = {}, [], 0
    st_dtype = {np.float32: "F32", np.float64: "F64"}[dtype]
    for name, array in tensors:
        data = np.ascontiguousarray(array, dtype=dtype).astype("<" + np.dtype(dtype).str[1:]).tobytes()
        header[name] = {"dtype": st_dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def linear_layers(model):
    """(weight [out, in], bias [out]) of every affine layer in order."""
    return [(m.weight.detach().numpy(), m.bias.detach().numpy())
            for m in model.modules() if isinstance(m, (nn.Linear, MatMulLinear))]


def write_twin(case, model, activations, loss, dtype, slopes=None):
    folder = os.path.join(HERE, case, "model")
    os.makedirs(folder, exist_ok=True)
    layers, tensors = [], []
    for l, (w, b) in enumerate(linear_layers(model), start=1):
        entry = {"name": f"fc{l}", "weight": f"fc{l}.weight", "bias": f"fc{l}.bias", "activation": activations[l - 1]}
        if slopes and l in slopes:
            entry["negative_slope"] = slopes[l]
        layers.append(entry)
        tensors += [(f"fc{l}.weight", w), (f"fc{l}.bias", b)]
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump({"loss": loss, "layers": layers}, f, indent=1)
        f.write("\n")
    write_safetensors(os.path.join(folder, "weights.safetensors"), tensors, dtype)


def write_data(case, n_in, labels):
    g = torch.Generator().manual_seed(7)
    x = torch.randn(SAMPLES, n_in, generator=g, dtype=torch.float64)
    with open(os.path.join(HERE, case, "data.jsonl"), "w") as f:
        for i in range(SAMPLES):
            f.write(json.dumps({"id": i, "features": [float(v) for v in x[i]], "label": labels(i, g)}) + "\n")


def export(model, case, name, shape, opset, dtype=torch.float32, inputs=None, initializers_as_inputs=False):
    os.makedirs(os.path.join(HERE, case), exist_ok=True)
    path = os.path.join(HERE, case, name)
    args = inputs if inputs is not None else torch.zeros(*shape, dtype=dtype)
    names = ["features"] if inputs is None else [f"in{k}" for k in range(len(inputs))]
    torch.onnx.export(model, args, path, opset_version=opset, input_names=names, output_names=["output"],
                      dynamic_axes={n: {0: "batch"} for n in names + ["output"]}, do_constant_folding=True,
                      keep_initializers_as_inputs=initializers_as_inputs)
    onnx.checker.check_model(onnx.load(path))
    return path


def class_label(classes):
    return lambda i, g: int(torch.randint(classes, (1,), generator=g))


def good_cases():
    # (a) softmax cross-entropy: Linear-ReLU-Linear-Softmax, float32, opsets 9 (the weights also listed as
    # graph inputs, as IR 3 required) and 17
    torch.manual_seed(101)
    a = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3), nn.Softmax(dim=1)).eval()
    for op in (9, 17):
        export(a, "a_softmax_relu", f"op{op}.onnx", (1, 4), op, initializers_as_inputs=op == 9)
    write_twin("a_softmax_relu", a, ["relu", "identity"], "softmax_cross_entropy", np.float32)
    write_data("a_softmax_relu", 4, class_label(3))

    # (b) logits out, the loss from --loss: Linear-Tanh-(MatMul+Add)-Tanh-Linear, float64, opsets 9 and 17
    torch.manual_seed(202)
    b = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), MatMulLinear(5, 4), nn.Tanh(), nn.Linear(4, 2)).eval().double()
    for op in (9, 17):
        export(b, "b_mse_tanh_f64", f"op{op}.onnx", (1, 3), op, dtype=torch.float64)
    write_twin("b_mse_tanh_f64", b, ["tanh", "tanh", "identity"], "mse", np.float64)
    write_data("b_mse_tanh_f64", 3, lambda i, g: [float(v) for v in torch.randn(2, generator=g, dtype=torch.float64)])

    # (c) binary cross-entropy: Linear-Sigmoid-Linear-Sigmoid, float32, opsets 9 and 17
    torch.manual_seed(303)
    c = nn.Sequential(nn.Linear(5, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid()).eval()
    for op in (9, 17):
        export(c, "c_bce_sigmoid", f"op{op}.onnx", (1, 5), op)
    write_twin("c_bce_sigmoid", c, ["sigmoid", "identity"], "sigmoid_binary_cross_entropy", np.float32)
    write_data("c_bce_sigmoid", 5, lambda i, g: float(torch.randint(2, (1,), generator=g)))

    # (d) Flatten of a (2, 3) input, LeakyReLU(0.2), Softplus, tanh-GELU (Mul/Add/Tanh below opset 20), LogSoftmax
    torch.manual_seed(404)
    d = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.LeakyReLU(0.2), nn.Linear(5, 4), nn.Softplus(),
                      nn.Linear(4, 4), nn.GELU(approximate="tanh"), nn.Linear(4, 3), nn.LogSoftmax(dim=1)).eval()
    export(d, "d_mixed", "op13.onnx", (1, 2, 3), 13)
    write_twin("d_mixed", d, ["leaky_relu", "softplus", "gelu", "identity"], "softmax_cross_entropy", np.float32,
               slopes={1: 0.2})
    write_data("d_mixed", 6, class_label(3))

    # (e) opset 20's Gelu node (approximate="tanh") and an Identity, written with onnx.helper
    torch.manual_seed(505)
    e = nn.Sequential(nn.Linear(3, 4), nn.GELU(approximate="tanh"), nn.Linear(4, 2)).eval()
    (w1, b1), (w2, b2) = linear_layers(e)
    inits = [numpy_helper.from_array(v, n) for v, n in ((w1, "fc1.weight"), (b1, "fc1.bias"),
                                                         (w2, "fc2.weight"), (b2, "fc2.bias"))]
    nodes = [helper.make_node("Gemm", ["features", "fc1.weight", "fc1.bias"], ["z1"], name="fc1", transB=1),
             helper.make_node("Gelu", ["z1"], ["a1"], name="gelu1", approximate="tanh"),
             helper.make_node("Identity", ["a1"], ["a1c"], name="copy"),
             helper.make_node("Gemm", ["a1c", "fc2.weight", "fc2.bias"], ["z2"], name="fc2", transB=1),
             helper.make_node("Softmax", ["z2"], ["output"], name="softmax", axis=-1)]
    graph = helper.make_graph(nodes, "gelu_op20", [helper.make_tensor_value_info("features", 1, ["batch", 3])],
                              [helper.make_tensor_value_info("output", 1, ["batch", 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], producer_name="make_fixtures.py")
    model.ir_version = 9
    os.makedirs(os.path.join(HERE, "e_gelu_op20"), exist_ok=True)
    onnx.save(model, os.path.join(HERE, "e_gelu_op20", "op20.onnx"))
    write_twin("e_gelu_op20", e, ["gelu", "identity"], "softmax_cross_entropy", np.float32)
    write_data("e_gelu_op20", 3, class_label(2))


class Branch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(4, 5), nn.Linear(5, 3), nn.Linear(5, 3)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        return self.fc2(h) + self.fc3(h)


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.out = nn.Linear(4, 4), nn.Linear(4, 2)

    def forward(self, x):
        return self.out(torch.relu(self.fc(torch.relu(self.fc(x)))))


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x, offset):
        return self.fc(x) + offset


def bad_cases():
    torch.manual_seed(606)
    export(nn.Sequential(nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(8, 2)).eval(), "bad", "conv.onnx", (1, 1, 6), 17)
    export(Branch().eval(), "bad", "branch.onnx", (1, 4), 17)
    export(nn.Sequential(nn.Linear(4, 5), nn.ELU(), nn.Linear(5, 2)).eval(), "bad", "unsupported_op.onnx", (1, 4), 17)
    export(nn.Sequential(nn.Linear(4, 5), nn.GELU(), nn.Linear(5, 2)).eval(), "bad", "gelu_erf.onnx", (1, 4), 17)
    export(Shared().eval(), "bad", "shared_weight.onnx", (1, 4), 17)
    export(TwoInputs().eval(), "bad", "second_input.onnx", None, 17, inputs=(torch.zeros(1, 4), torch.zeros(1, 3)))


if __name__ == "__main__":
    good_cases()
    bad_cases()
