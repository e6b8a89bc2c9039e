"""Checks for ``02_frameworks/pytorch_fundamentals.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks and the hints, never
a solution or a hidden test.

Tensors cross to the checks as arrays (:class:`~mlcourse.check.codec.TensorData`,
which keeps ``torch_dtype`` and ``requires_grad``). What the learner's code
needs as input (a tensor, a seeded model, a DataLoader, an optimiser) is
built on the learner's side by the factories below, through ``t.build``;
models come back as data through the converters ``module_summary`` and
``state_dict``. Expected values are computed here, independently.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mlcourse.check import choice, number, problem
from mlcourse.check.judge import Ref

HERE = "mlcourse.exercises.pytorch_fundamentals"
SUMMARY = "mlcourse.check.convert:module_summary"
STATE = "mlcourse.check.convert:state_dict"


@lru_cache(maxsize=1)
def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 hand-written digits: (images (N, 8, 8) in 0..16, labels)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.images, data.target


# -- factories and drivers: course code that runs on the learner's side --------------------


def tensor(data, dtype: str = "float32") -> torch.Tensor:
    """A tensor of ``dtype`` ("float32", "float64", "int64"...) holding ``data``."""
    return torch.tensor(np.asarray(data), dtype=getattr(torch, dtype))


def plus_one(image: torch.Tensor) -> torch.Tensor:
    """A transform that brightens an image by 1 (easy to recognise in a check)."""
    return image + 1.0


class CountingTransform:
    """A transform that flips an image left to right and records the shape of every call."""

    def __init__(self):
        self.shapes: list[list[int]] = []

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        self.shapes.append(list(image.shape))
        return torch.flip(image, dims=[-1])


class Recorder(nn.Module):
    """A linear model with known weights (and an optional dropout in front of it).

    Every call records whether gradients were being recorded, whether the model
    was in training mode, and the batch size: a check can then see how the
    learner's loop used it.
    """

    def __init__(self, W, b, dropout: float = 0.0, dtype: str = "float32"):
        super().__init__()
        W = np.asarray(W, dtype=float)
        self.drop = nn.Dropout(dropout)
        self.linear = nn.Linear(W.shape[1], W.shape[0]).to(getattr(torch, dtype))
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(W))
            self.linear.bias.copy_(torch.as_tensor(np.asarray(b, dtype=float)))
        self.calls: list[list] = []

    def forward(self, x):
        self.calls.append([torch.is_grad_enabled(), self.training, len(x)])
        return self.linear(self.drop(x))


def loader(X, Y, batch_size: int, x_dtype: str = "float32", y_dtype: str = "float32"):
    """A DataLoader over (X, Y) in order, in batches of ``batch_size`` (the last may be smaller)."""
    from torch.utils.data import DataLoader, TensorDataset

    dataset = TensorDataset(tensor(X, x_dtype), tensor(Y, y_dtype))
    return DataLoader(dataset, batch_size=batch_size)


def sgd(model: nn.Module, lr: float):
    """Plain stochastic gradient descent over a model's parameters."""
    return torch.optim.SGD(model.parameters(), lr=lr)


def randomize(model: nn.Module, seed: int) -> None:
    """Give every floating-point parameter and buffer of ``model`` seeded random values."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, value in model.state_dict().items():
            if value.is_floating_point():
                new = 0.5 * torch.randn(value.shape, generator=g, dtype=value.dtype)
                if name.endswith("running_var"):
                    new = new.abs() + 0.5
                value.copy_(new)


def shares_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether two tensors are views of the same storage."""
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def run_stopper(stopper_class, losses, patience: int) -> dict:
    """Feed ``losses`` to a fresh stopper, one epoch at a time, then restore into a new model.

    The model's weights at epoch k are all k (set in place, as an optimiser would),
    and the model restored into starts at -1, so the restored weights say which
    epoch was kept.
    """
    model = nn.Linear(2, 1)
    stopper = stopper_class(patience)
    answers = []
    for epoch, value in enumerate(losses):
        with torch.no_grad():
            model.weight.fill_(float(epoch))
            model.bias.fill_(float(epoch))
        answers.append(stopper.step(value, model))
    fresh = nn.Linear(2, 1)
    with torch.no_grad():
        fresh.weight.fill_(-1.0)
        fresh.bias.fill_(-1.0)
    stopper.restore(fresh)
    return {"answers": answers, "restored": fresh.weight.detach().clone()}


def recurrent(module: nn.Module) -> list[dict]:
    """Converter: every recurrent layer (RNN, GRU, LSTM) of a module, with its settings."""
    out = []
    for name, child in module.named_modules():
        if isinstance(child, nn.RNNBase):
            out.append(
                {
                    "name": name,
                    "type": type(child).__name__,
                    "input_size": child.input_size,
                    "hidden_size": child.hidden_size,
                    "num_layers": child.num_layers,
                    "batch_first": child.batch_first,
                    "bidirectional": child.bidirectional,
                }
            )
    return out


# -- references, computed on the checks' side ------------------------------------------------


def named(ref, label: str):
    """The same Ref, shown as ``label`` in what the checks say they called."""
    return Ref({**ref._target, "label": label})


def built(t, factory: str, label: str, *args, **kwargs):
    """``t.build`` of one of this module's factories, shown as ``label``."""
    return named(t.build(f"{HERE}:{factory}", *args, **kwargs), label)


def sq_dists(A, B) -> np.ndarray:
    from scipy.spatial.distance import cdist

    return cdist(np.asarray(A, dtype=float), np.asarray(B, dtype=float), "sqeuclidean")


def sgd_reference(W, b, X, Y, lr: float, batch: int, loss: str = "mse", accumulate=False):
    """Mini-batch SGD on a linear model, in NumPy: (W, b, weighted mean loss, plain mean).

    ``loss`` is "mse", "l1" or "ce" (softmax cross-entropy with integer labels).
    """
    W, b = np.array(W, dtype=float), np.array(b, dtype=float)
    X, Y = np.asarray(X, dtype=float), np.asarray(Y)
    gW, gb = np.zeros_like(W), np.zeros_like(b)
    weighted, plain = 0.0, []
    for start in range(0, len(X), batch):
        xb, yb = X[start : start + batch], Y[start : start + batch]
        out = xb @ W.T + b
        if loss == "ce":
            shifted = out - out.max(1)[:, None]
            prob = np.exp(shifted) / np.exp(shifted).sum(1)[:, None]
            value = -np.log(prob[np.arange(len(yb)), yb.astype(int)]).mean()
            g_out = (prob - np.eye(W.shape[0])[yb.astype(int)]) / len(yb)
        else:
            r = out - yb
            value = np.mean(r**2) if loss == "mse" else np.mean(np.abs(r))
            g_out = (2 * r if loss == "mse" else np.sign(r)) / r.size
        weighted += value * len(xb)
        plain.append(value)
        if not accumulate:
            gW, gb = np.zeros_like(W), np.zeros_like(b)
        gW, gb = gW + g_out.T @ xb, gb + g_out.sum(0)
        W, b = W - lr * gW, b - lr * gb
    return W, b, weighted / len(X), float(np.mean(plain))


def classifier_reference(W, b, X, y, smoothing: float = 0.0) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of the linear classifier (W, b) on (X, y)."""
    logits = torch.as_tensor(np.asarray(X, dtype=float) @ np.asarray(W).T + np.asarray(b))
    labels = torch.as_tensor(np.asarray(y), dtype=torch.long)
    loss = F.cross_entropy(logits, labels, label_smoothing=smoothing).item()
    accuracy = float((logits.numpy().argmax(1) == np.asarray(y)).mean())
    return loss, accuracy


#: The table's layers, as :func:`layer_signature` describes them.
CNN_LAYERS = [
    "Conv2d(1, 16, kernel_size=(3, 3), padding=(1, 1))",
    "BatchNorm2d(16)",
    "Conv2d(16, 32, kernel_size=(3, 3), padding=(1, 1))",
    "BatchNorm2d(32)",
    "MaxPool2d(2)",
    "Dropout(p=0.3)",
    "Linear(512, 10)",
]
_LEAVES = {
    "Conv1d", "Conv2d", "Conv3d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm",
    "MaxPool1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
    "Dropout", "Dropout1d", "Dropout2d", "Linear", "Bilinear", "Softmax", "LogSoftmax",
    "Sigmoid", "Tanh", "GRU", "LSTM", "RNN", "Embedding",
}  # fmt: skip


def _pair(value):
    if isinstance(value, list | tuple):
        return tuple(int(v) for v in value)
    return (int(value), int(value))


def layer_signature(summary: dict) -> list[str]:
    """The layers that compute something, in order, with the settings that matter here.

    Containers and ReLU or Flatten modules are left out (the functional forms are as
    good); anything else, a softmax for example, is listed.
    """
    out = []
    for layer in summary["layers"]:
        kind = layer["type"].rpartition(".")[2]
        if kind not in _LEAVES:
            continue
        if kind.startswith("Conv"):
            padding = layer.get("padding")
            padding = (1, 1) if padding == "same" else _pair(padding)
            out.append(
                f"{kind}({layer['in_channels']}, {layer['out_channels']}, "
                f"kernel_size={_pair(layer['kernel_size'])}, padding={padding})"
            )
        elif kind.startswith("BatchNorm"):
            out.append(f"{kind}({layer['num_features']})")
        elif kind.startswith("MaxPool"):
            k = _pair(layer["kernel_size"])
            out.append(f"{kind}({k[0] if k[0] == k[1] else k})")
        elif kind.startswith("Dropout"):
            out.append(f"{kind}(p={layer['p']})")
        elif kind == "Linear":
            out.append(f"Linear({layer['in_features']}, {layer['out_features']})")
        else:
            out.append(kind)
    return out


def cnn_logits(arrays: list, x: np.ndarray) -> np.ndarray:
    """The table's network in evaluation mode, with PyTorch's functional operations.

    ``arrays`` are the 16 entries of the network's state_dict, in the table's order.
    """
    (w1, b1, g1, s1, m1, v1, _, w2, b2, g2, s2, m2, v2, _, wl, bl) = [
        torch.as_tensor(np.asarray(a)) for a in arrays
    ]
    h = torch.as_tensor(np.asarray(x, dtype=np.float32))
    h = F.relu(F.batch_norm(F.conv2d(h, w1, b1, padding=1), m1, v1, g1, s1, training=False))
    h = F.relu(F.batch_norm(F.conv2d(h, w2, b2, padding=1), m2, v2, g2, s2, training=False))
    h = F.max_pool2d(h, 2).reshape(len(h), -1)
    return F.linear(h, wl, bl).numpy()


GRU_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def gru_forecasts(state: dict, windows: np.ndarray) -> np.ndarray:
    """Next-value forecasts of a one-feature GRU and a linear head, in NumPy, from a state_dict.

    The GRU's equations, step by step (PyTorch's gate order: reset, update, new):
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in x + b_in +
    r (W_hn h + b_hn)), and the new state (1 - z) n + z h. The head reads the state
    after the whole window.
    """
    parts = {
        key: np.asarray(v, dtype=float)
        for k, v in state.items()
        for key in GRU_KEYS
        if k.endswith(key)
    }
    head = [np.asarray(v, dtype=float) for k, v in state.items() if not k.endswith(GRU_KEYS)]
    if len(parts) != 4 or len(head) != 2:
        raise ValueError("expected one GRU layer and one linear head")
    head_w, head_b = head
    w_ih, w_hh, b_ih, b_hh = (parts[key] for key in GRU_KEYS)
    hidden = w_hh.shape[1]
    windows = np.asarray(windows, dtype=float)
    state_h = np.zeros((len(windows), hidden))

    def sigmoid(v):
        return 1.0 / (1.0 + np.exp(-v))

    for step in range(windows.shape[1]):
        gi = windows[:, step : step + 1] @ w_ih.T + b_ih
        gh = state_h @ w_hh.T + b_hh
        r = sigmoid(gi[:, :hidden] + gh[:, :hidden])
        z = sigmoid(gi[:, hidden : 2 * hidden] + gh[:, hidden : 2 * hidden])
        n = np.tanh(gi[:, 2 * hidden :] + r * gh[:, 2 * hidden :])
        state_h = (1 - z) * n + z * state_h
    return (state_h @ head_w.T + head_b)[:, 0]


def gru_parameters(hidden: int) -> int:
    return 3 * (hidden + hidden * hidden + 2 * hidden) + hidden + 1


# -- exercise 1 ---------------------------------------------------------------------------


@problem(
    "pairwise_sq_dists",
    hints=(
        "Broadcasting pairs every row of one set with every row of the other when each "
        "set gets a size-one axis in a different place; the distance then adds up over "
        "the coordinates.",
        "Give the first set a new axis in the middle and the second a new axis in front, "
        "subtract (the result is n by m by d), square, and sum over the last axis, the "
        "coordinates.",
        "Build a new tensor from the difference rather than changing A or B in place, so "
        "the caller's tensors stay as they were.",
    ),
)
def _pairwise_sq_dists(t):
    A = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, -1.0]])
    B = np.array([[1.0, 0.0], [0.0, 2.0], [2.0, 2.0], [-1.0, -1.0]])
    A_ref, B_ref = built(t, "tensor", "A", A, "float64"), built(t, "tensor", "B", B, "float64")
    got = t.call("pairwise_sq_dists", A_ref, B_ref)
    t.shape(
        got,
        (3, 4),
        nudge="Row i of the result belongs to A[i], column j to B[j]: A's axis must come first.",
    )
    want = sq_dists(A, B)
    t.close(
        got,
        want,
        wrong={"These are distances, not squared distances: drop the square root.": np.sqrt(want)},
        nudge="Check that you square the differences before summing over the coordinates.",
    )
    t.true(
        getattr(got, "torch_dtype", "") == "torch.float64",
        f"float64 points gave {getattr(got, 'torch_dtype', None) or type(got).__name__}",
        "Return a tensor of the inputs' dtype: stay in PyTorch, without converting.",
    )
    t.true(
        np.array_equal(t.value(A_ref), A) and np.array_equal(t.value(B_ref), B),
        "your function changed A or B in place",
        "Build a new tensor (diff = ...) instead of A -= ... or A.sub_(...).",
    )


# -- exercise 2 ---------------------------------------------------------------------------


@problem(
    "DigitsDataset",
    hints=(
        "A dataset converts its data once, when it is built, and then answers two "
        "questions: how many examples there are, and what example number i is.",
        "In the constructor, turn the images into one float32 tensor scaled to the unit "
        "interval with a channel axis after the example axis, and the labels into an "
        "int64 tensor. The length is the number of labels. An item is the pair of one "
        "image (passed through the transform when there is one) and one label.",
        "Convert with an explicit dtype instead of relying on the input's; dividing by 16 "
        "builds a new tensor, so the caller's arrays are untouched.",
    ),
)
def _digits_dataset(t):
    images, labels = digits()
    imgs, labs = images[:10], labels[:10]
    ds = named(t.call("DigitsDataset", imgs, labs, keep=True), "dataset")
    stored = t.value(ds.images, nudge="Store the converted images as self.images.")
    t.true(
        getattr(stored, "torch_dtype", "") == "torch.float32",
        f"self.images is {getattr(stored, 'torch_dtype', None) or type(stored).__name__}",
        "Store the images as one float32 tensor: networks work in float32.",
    )
    t.shape(stored, (10, 1, 8, 8), nudge="self.images holds all N images: (N, 1, 8, 8).")
    t.close(
        stored[:, 0],
        imgs / 16.0,
        rtol=1e-6,
        what="self.images",
        wrong={"The pixels are not scaled: divide by 16 so they lie in [0, 1].": imgs},
    )
    stored = t.value(ds.labels, nudge="Store the converted labels as self.labels.")
    t.true(
        getattr(stored, "torch_dtype", "") == "torch.int64",
        f"self.labels is {getattr(stored, 'torch_dtype', None) or type(stored).__name__}",
        "CrossEntropyLoss wants class indices as an int64 (torch.long) tensor.",
    )
    t.equal(
        t.call("builtins:len", ds),
        10,
        what="len(dataset)",
        wrong={"Off by one: len must be the number of examples, N.": 9},
    )
    image, label = t.call("operator:getitem", ds, 0)
    t.shape(image, (1, 8, 8), nudge="Keep a channel axis: one image is (1, 8, 8).")
    t.shape(label, (), nudge="Each label is a 0-dimensional tensor, not shape (1,).")
    t.equal(int(t.call("operator:getitem", ds, 9)[1]), int(labs[9]), what="the last label")
    shifted = t.call("DigitsDataset", imgs, labs, transform=t.ref(f"{HERE}:plus_one"), keep=True)
    t.close(
        t.call("operator:getitem", shifted, 3)[0][0],
        imgs[3] / 16.0 + 1.0,
        rtol=1e-6,
        what="item 3 with a transform that adds 1",
        nudge="__getitem__ must apply self.transform to the image when it is not None.",
    )
    batches = t.call(
        "mlcourse.check.drivers:iterate",
        t.build("torch.utils.data:DataLoader", ds, batch_size=4),
        1,
    )
    xb, yb = batches[0]
    t.shape(xb, (4, 1, 8, 8), nudge="A DataLoader stacks your items: check __getitem__'s shapes.")
    t.shape(yb, (4,), nudge="Each label should be a 0-dimensional tensor.")


# -- exercise 3 ---------------------------------------------------------------------------


@problem(
    "DigitsCNN",
    hints=(
        "A module declares its layers once, in its constructor, and its forward method "
        "only says how a batch flows through them; the table gives the layers in order.",
        "Two convolution blocks (a three by three convolution that keeps the size, batch "
        "normalisation, ReLU), then max-pooling by two, flattening, dropout with the given "
        "probability, and a linear layer from the flattened size to ten scores. Return "
        "the raw scores.",
        "The flattened size is channels times height times width after the pooling: 32 "
        "channels of 4 by 4. Pass the constructor's dropout argument on to the dropout "
        "layer.",
    ),
)
def _digits_cnn(t):
    net = named(t.call("DigitsCNN", keep=True), "net")
    summary = t.value(net, convert=SUMMARY)
    t.equal(
        summary["parameters"],
        10026,
        what="the number of parameters",
        wrong={
            "About 96 parameters short: the two BatchNorm2d layers are missing.": 9930,
            "Linear(32 * 2 * 2, 10) means the convolutions have no padding=1: each 3x3 conv "
            "then shrinks the image by 2 pixels.": 160 + 4640 + 96 + 1290,
        },
        nudge="Compare your layers with the table, one by one.",
    )
    t.equal(
        layer_signature(summary),
        CNN_LAYERS,
        what="your layers, in order",
        nudge="Declare the layers of the table in that order (ReLU and Flatten may be "
        "modules or functions).",
    )
    t.call(f"{HERE}:randomize", net, 1)
    state = t.value(net, convert=STATE)
    x = np.random.default_rng(3).random((5, 1, 8, 8)).astype(np.float32)
    t.call(net.eval)
    got = t.call(net, built(t, "tensor", "x", x, "float32"))
    t.shape(got, (5, 10), nudge="One row of 10 scores per image in the batch.")
    t.close(
        got,
        cnn_logits(list(state.values()), x),
        rtol=1e-4,
        atol=1e-5,
        what="the logits in eval mode (vs the table's network with your weights)",
        nudge="Return the raw scores (logits): no softmax, ReLU after each batch norm, pool, "
        "then flatten.",
    )


# -- exercises 4 and 5 ------------------------------------------------------------------------


@problem(
    "train_one_epoch",
    hints=(
        "Every training step repeats the same small cycle, and the gradients of one step "
        "must not leak into the next; the model must also be told it is training.",
        "Switch the model to training mode, then for each batch: move it to the model's "
        "device, clear the optimiser's gradients, compute the loss of the model's output "
        "with the loss function you were given, back-propagate, and step. Keep a running "
        "total of each batch's loss times its size, and divide by the number of examples.",
        "Take the number out of a loss with its item method, so that you return a Python "
        "float and do not keep the graph alive.",
    ),
)
def _train_one_epoch(t):
    X = np.linspace(-1, 1, 30).reshape(10, 3)
    Y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    W0, b0 = np.array([[0.2, -0.1, 0.4]]), np.array([0.05])
    want_W, want_b, want_loss, plain = sgd_reference(W0, b0, X, Y, 0.1, 4)
    stacked, _, _, _ = sgd_reference(W0, b0, X, Y, 0.1, 4, accumulate=True)
    model = built(t, "Recorder", "model", W0, b0, 0.0, "float64")
    t.call(model.eval)  # the function must switch it back to training mode
    data = built(t, "loader", "loader", X, Y, 4, "float64", "float64")  # batches of 4, 4, 2
    got = t.call(
        "train_one_epoch",
        model,
        data,
        named(t.build("torch.nn:MSELoss"), "MSELoss()"),
        built(t, "sgd", "SGD(lr=0.1)", model, 0.1),
    )
    calls = t.value(model.calls)
    t.equal(
        [size for _, _, size in calls],
        [4, 4, 2],
        what="the batch sizes the model saw",
        nudge="Run the model once per batch, over the whole loader.",
    )
    t.true(
        all(training for _, training, _ in calls),
        "the model was in eval mode during training",
        "Call model.train() at the start: dropout and batch norm behave differently in training.",
    )
    state = t.value(model, convert=STATE)
    t.close(
        state["linear.weight"],
        want_W,
        rtol=1e-9,
        what="the weights after one epoch",
        wrong={
            "Gradients piled up from batch to batch: call optimizer.zero_grad() before "
            "backward().": stacked,
            "The weights did not move: call loss.backward() and optimizer.step() for every "
            "batch.": W0,
        },
    )
    t.close(state["linear.bias"], want_b, rtol=1e-9, what="the bias after one epoch")
    t.true(
        type(got) is float,
        f"train_one_epoch returned a {type(got).__name__}",
        "Return a Python float: use loss.item(), not the loss tensor.",
    )
    t.close(
        got,
        want_loss,
        rtol=1e-9,
        what="the mean loss",
        wrong={
            "That is the plain mean of the batch losses; the last batch has only 2 examples, "
            "so weight each batch's loss by its size.": plain
        },
    )


@problem(
    "evaluate",
    hints=(
        "Evaluation measures without learning: the layers must behave as at test time, "
        "and nothing needs to be recorded for gradients.",
        "Switch the model to evaluation mode and turn gradient recording off around the "
        "loop. For each batch, add its loss times its size to a total, and count the "
        "examples whose highest score is the true class. Divide both by the number of "
        "examples.",
        "The logits of a batch have one row per example and one column per class: the "
        "prediction is the position of the largest entry along the class axis.",
    ),
)
def _evaluate(t):
    r = np.random.default_rng(0)
    W, b = r.normal(size=(3, 4)), r.normal(size=3)
    X = r.normal(size=(10, 4))
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    want_loss, want_acc = classifier_reference(W, b, X, y)
    probe = built(t, "Recorder", "model", W, b, 0.5)
    got = t.call(
        "evaluate",
        probe,
        built(t, "loader", "loader", X, y, 3, "float32", "int64"),
        named(t.build("torch.nn:CrossEntropyLoss"), "CrossEntropyLoss()"),
    )
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"evaluate returned {type(got).__name__}",
        "Return the pair (mean_loss, accuracy).",
    )
    calls = t.value(probe.calls)
    t.true(
        not any(grad_on for grad_on, _, _ in calls),
        "gradients were being recorded during evaluation",
        "Wrap the loop in `with torch.no_grad():`.",
    )
    t.true(
        not any(training for _, training, _ in calls),
        "the model was in training mode during evaluation (dropout was active)",
        "Call model.eval() before the loop.",
    )
    t.true(
        type(got[0]) is float and type(got[1]) is float,
        f"evaluate returned a {type(got[0]).__name__} and a {type(got[1]).__name__}",
        "Return Python floats: use .item() and plain division.",
    )
    t.close(
        got[0],
        want_loss,
        rtol=1e-5,
        what="the mean loss",
        nudge="Weight each batch's loss by its size: the batches here hold 3, 3, 3 and 1 examples.",
    )
    t.close(
        got[1],
        want_acc,
        rtol=1e-9,
        what="the accuracy",
        nudge="The predicted class is the argmax over the class axis: one class per row.",
    )


# -- exercise 6 ---------------------------------------------------------------------------


@problem(
    "EarlyStopping",
    hints=(
        "Early stopping remembers the best validation loss and the weights that gave it, "
        "counts the epochs in a row that failed to beat it, and gives up after patience "
        "of them; a saved snapshot must not change when the model trains on.",
        "When the loss is strictly below the best so far, record it, save an independent "
        "copy of the model's state and reset the counter; otherwise add one to the "
        "counter. Stop once the counter reaches the patience. To restore, load the saved "
        "state into the model.",
        "A state dictionary holds the model's live tensors: the copy module's deep copy "
        "gives you tensors of your own.",
    ),
)
def _early_stopping(t):
    losses = [1.0, 0.9, 1.1, 0.8, 0.85, 0.9, 0.95]
    got = t.call(f"{HERE}:run_stopper", t.ref("EarlyStopping"), losses, 3)
    t.true(
        all(type(a) in (bool, np.bool_) for a in got["answers"]),
        f"step returned {sorted({type(a).__name__ for a in got['answers']})}",
        "step returns True (stop) or False (go on).",
    )
    t.equal(
        " ".join("T" if a else "F" for a in got["answers"]),
        "F F F F F F T",
        what="step's answers, epoch by epoch (T = stop), for losses 1.0 0.9 1.1 0.8 0.85 0.9 0.95",
        wrong={
            "One epoch late: stop when the bad-epoch counter reaches patience (>=), not "
            "exceeds it.": "F F F F F F F",
            "One epoch early. Reset the bad-epoch counter to 0 whenever the loss improves, "
            "and allow `patience` bad epochs in a row before stopping.": "F F F F F T T",
        },
    )
    t.close(
        got["restored"],
        np.full((1, 2), 3.0),
        what="the restored weights (the weights at epoch k are all k)",
        wrong={
            "You restored the last epoch's weights: model.state_dict() shares memory with the "
            "model, so save a deep copy.": np.full((1, 2), 6.0),
            "restore did not load anything into the model.": np.full((1, 2), -1.0),
        },
        nudge="The best loss, 0.8, came at epoch 3 (counting from 0): restore that epoch's "
        "weights.",
    )


# -- exercises 7 and 8 ----------------------------------------------------------------------


@problem(
    "make_windows",
    hints=(
        "Each training pair is a stretch of the series and the value that comes right "
        "after it; the target must never be inside its own input.",
        "There are as many windows as values minus the window length. Window number i "
        "starts at position i and has the window's length; its target is the value just "
        "past its end. Check the window and the length before building anything.",
        "Stack the windows into one tensor, and take the targets as one slice of the "
        "series; make the slice a copy so that it does not share memory with the series.",
    ),
)
def _make_windows(t):
    series = built(t, "tensor", "series", np.arange(6.0), "float32")
    got = t.call("make_windows", series, 3)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"make_windows returned {type(got).__name__}",
        "Return the pair (X, y).",
    )
    X, y = got
    t.shape(X, (3, 3), nudge="A series of 6 values gives 6 - 3 = 3 windows of 3: check your range.")
    t.close(X, [[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]], what="X")
    t.close(
        y,
        [3.0, 4.0, 5.0],
        what="y",
        wrong={
            "Target leakage: y[i] is the last value of window i, which the model can see. "
            "The target is the next value, series[i + window].": [2.0, 3.0, 4.0],
        },
    )
    t.true(
        getattr(X, "torch_dtype", "") == "torch.float32"
        and getattr(y, "torch_dtype", "") == "torch.float32",
        "X and y are not float32 tensors like the series",
        "Stay in PyTorch and keep the series' dtype.",
    )
    t.raises(
        ValueError, "make_windows", series, 6, nudge="6 values and a window of 6 leave no target."
    )


@problem(
    "GRUForecaster",
    hints=(
        "A recurrent layer reads a sequence one step at a time; only its state after the "
        "last step has seen the whole window, and it must be told which axis of the batch "
        "is time.",
        "Declare one GRU with one input feature, the given hidden size and the batch axis "
        "first, and a linear head from the hidden size to one number. In forward, add a "
        "feature axis at the end, run the GRU, keep its output sequence, apply the head to "
        "the last step, and drop only the final size-one axis.",
    ),
)
def _gru_forecaster(t):
    net = named(t.call("GRUForecaster", 16, keep=True), "net")
    layers = t.value(net, convert=f"{HERE}:recurrent")
    t.equal(
        [(r["type"], r["input_size"], r["hidden_size"], r["num_layers"]) for r in layers],
        [("GRU", 1, 16, 1)],
        what="your recurrent layers as (type, input_size, hidden_size, num_layers)",
        nudge="One nn.GRU with one input feature and hidden_size units.",
    )
    t.true(
        layers[0]["batch_first"] is True,
        "the GRU expects (time, batch, features): batch_first is not set",
        "Pass batch_first=True: your windows are (batch, time).",
    )
    t.equal(
        t.value(net, convert=SUMMARY)["parameters"],
        gru_parameters(16),
        what="the number of parameters",
        nudge="One nn.GRU(1, hidden_size) and one nn.Linear(hidden_size, 1), nothing else.",
    )
    state = t.value(net, convert=STATE)
    windows = np.random.default_rng(1).normal(size=(5, 7)).astype(np.float32)
    got = t.call(net, built(t, "tensor", "windows", windows, "float32"))
    t.shape(got, (5,), nudge="Return one number per window: shape (B,), squeeze the last axis.")
    t.close(
        got,
        gru_forecasts(state, windows),
        rtol=1e-4,
        atol=1e-5,
        what="the forecasts (vs the GRU's equations with your weights)",
        nudge="Apply the head to the state after the LAST step of each window.",
    )


# -- the quiz -------------------------------------------------------------------------------

choice(
    "q_broadcast",
    options="abcd",
    hints=(
        "Line the two shapes up from the right, padding the shorter one with ones on the left.",
        "In each position the sizes must be equal or one of them must be 1, and the result "
        "takes the larger one.",
    ),
)
number(
    "q_conv_params",
    hints=(
        "Each output channel has one filter that spans every input channel, plus one bias.",
        "Multiply output channels, input channels and the filter's area, then add the biases.",
    ),
)
number(
    "q_batches",
    hints=(
        "A DataLoader keeps the incomplete last batch unless it is told to drop it.",
        "Divide the number of examples by the batch size and round up.",
    ),
)
number(
    "q_patience",
    hints=(
        "The counter counts bad epochs in a row: an improvement sets it back to zero.",
        "Go through the epochs one by one, tracking the best loss and the counter.",
    ),
)
choice(
    "q_dtype",
    options="abcd",
    hints=(
        "NumPy and PyTorch have different default floating-point dtypes.",
        "A layer's weights and its input must have the same dtype.",
    ),
)
