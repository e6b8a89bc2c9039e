"""Checks for ``03_specialize/vision_web_app.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks and the hints, never
a solution or a hidden test.

What the learner's code needs as input (a tensor, a seeded network, a fake
preprocessing step or model for the app) is built on the learner's side by
the factories below, through ``t.build``; the same factories run here to
compute what to expect. Images cross as PNG or JPEG bytes made here with
Pillow, of patterns whose 8 x 8 result is known exactly.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mlcourse.check import choice, number, problem

HERE = "mlcourse.exercises.vision_web_app"
SUMMARY = "mlcourse.check.convert:module_summary"
STATE = "mlcourse.check.convert:state_dict"
HTTP = "mlcourse.check.drivers:http"


@lru_cache(maxsize=1)
def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 hand-written digits: (images (N, 8, 8) in 0..16, labels)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.images, data.target


# -- factories: course code that runs on the learner's side (and here) ----------------------


def tensor(data, dtype: str = "float32") -> torch.Tensor:
    """A tensor of ``dtype`` holding ``data``."""
    return torch.tensor(np.asarray(data), dtype=getattr(torch, dtype))


def probe_net(seed: int, channels: int = 1, size: int = 8) -> nn.Module:
    """A small seeded CNN, left in TRAINING mode: conv, batch norm, ReLU, dropout, linear.

    Its batch-norm running statistics are seeded too, so that training mode
    (batch statistics, dropout on) and evaluation mode give different scores.
    """
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(channels, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Flatten(),
        nn.Linear(4 * size * size, 10),
    )
    with torch.no_grad():
        for name, value in net.state_dict().items():
            if value.is_floating_point():
                new = 0.4 * torch.randn(value.shape, generator=g)
                if name.endswith("running_var"):
                    new = new.abs() + 0.5
                value.copy_(new)
    return net.train()


def randomize(module: nn.Module, seed: int) -> None:
    """Seeded random values for every floating-point parameter and buffer of ``module``."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, value in module.state_dict().items():
            if value.is_floating_point():
                new = 0.5 * torch.randn(value.shape, generator=g, dtype=value.dtype)
                if name.endswith("running_var"):
                    new = new.abs() + 0.5
                value.copy_(new)


class FakePreprocess:
    """Stands in for the upload step: bytes starting with b"OK" give an 8 x 8 image whose
    pixels all equal the third byte; anything else raises ValueError. Records each call."""

    def __init__(self):
        self.calls: list[int] = []

    def __call__(self, data: bytes) -> np.ndarray:
        self.calls.append(len(data))
        if not data.startswith(b"OK") or len(data) < 3:
            raise ValueError("not a digit: the image could not be read")
        return np.full((8, 8), float(data[2]))


class FakeModel:
    """Stands in for the model: the digit (first pixel mod 10) gets 0.82, the others 0.02.

    Returns a NumPy float64 array, as a real ``predict_proba`` would.
    """

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        probs = np.full(10, 0.02)
        probs[int(pixels[0, 0]) % 10] = 0.82
        return probs


def fake_answer(digit: int) -> list[float]:
    """The probabilities FakeModel gives for a first pixel of ``digit``."""
    probs = [0.02] * 10
    probs[digit % 10] = 0.82
    return probs


# -- pictures, made here with Pillow ----------------------------------------------------------


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    """PNG bytes of a uint8 array (grey, or RGBA for (H, W, 4)); ``mode``: convert first."""
    from PIL import Image

    picture = Image.fromarray(np.asarray(array, dtype=np.uint8))
    if mode == "P":  # an adaptive palette keeps the few grey levels exactly
        picture = picture.convert("P", palette=Image.Palette.ADAPTIVE, colors=32)
    elif mode is not None:
        picture = picture.convert(mode)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(array: np.ndarray, quality: int = 95) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def framed_pattern() -> np.ndarray:
    """An 8 x 8 pattern in [0, 1] with ink in its first and last rows and columns."""
    p = np.zeros((8, 8))
    p[0, 1:7] = 1.0
    p[7, :] = 0.75
    p[1:7, 0] = 0.5
    p[2:6, 7] = 1.0
    p[3, 3:5] = 0.25
    return p


def on_paper(pattern: np.ndarray, block: int, canvas=(120, 100), at=(17, 9)) -> np.ndarray:
    """``pattern`` (ink in [0, 1]) enlarged into ``block``-pixel squares, dark on white paper."""
    ink = np.zeros(canvas)
    big = np.kron(pattern, np.ones((block, block)))
    ink[at[0] : at[0] + big.shape[0], at[1] : at[1] + big.shape[1]] = big
    return np.round(255 * (1 - ink))


def quantised(pattern: np.ndarray) -> np.ndarray:
    """The ink a decoder reads back from :func:`on_paper` (grey levels are whole numbers)."""
    return 1 - np.round(255 * (1 - pattern)) / 255


def block_means(square: np.ndarray) -> np.ndarray:
    """An (8k, 8k) array averaged over k x k blocks: (8, 8)."""
    k = square.shape[0] // 8
    return square.reshape(8, k, 8, k).mean(axis=(1, 3))


def scaled(grid: np.ndarray) -> np.ndarray:
    """``grid`` stretched so that its largest value is 16."""
    return grid * (16.0 / grid.max())


# -- references, computed on the checks' side ---------------------------------------------------


def block_forward(state: dict, x: np.ndarray, stride: int, training: bool) -> np.ndarray:
    """A residual block's output from its weights (conv1, bn1, conv2, bn2, shortcut)."""
    s = {k: torch.as_tensor(np.asarray(v)) for k, v in state.items()}
    h = torch.as_tensor(x)

    def norm(z, name):
        return F.batch_norm(
            z,
            s[f"{name}.running_mean"].clone(),
            s[f"{name}.running_var"].clone(),
            s[f"{name}.weight"],
            s[f"{name}.bias"],
            training=training,
            eps=1e-5,
        )

    inner = F.relu(norm(F.conv2d(h, s["conv1.weight"], stride=stride, padding=1), "bn1"))
    inner = norm(F.conv2d(inner, s["conv2.weight"], padding=1), "bn2")
    if "shortcut.0.weight" in s:
        skip = norm(F.conv2d(h, s["shortcut.0.weight"], stride=stride), "shortcut.1")
    else:
        skip = h
    return F.relu(inner + skip).numpy()


def input_gradient(seed: int, image: np.ndarray, target: int) -> np.ndarray:
    """|d score / d pixel| of probe_net(seed) in evaluation mode, max over channels."""
    net = probe_net(seed, image.shape[0], image.shape[1]).eval()
    x = torch.tensor(image[None], dtype=torch.float32, requires_grad=True)
    score = net(x)[0, target]
    score.backward()
    return x.grad[0].abs().max(dim=0).values.numpy()


def signature(summary: dict) -> dict[str, str]:
    """Each named layer of a module summary: its type and the settings that matter here."""
    out = {}
    for layer in summary["layers"]:
        kind = layer["type"].rpartition(".")[2]
        if kind == "ReLU":  # an activation module is as good as F.relu
            continue
        text = kind
        if kind.startswith("Conv"):
            bias = "bias" in layer["params"]
            text = (
                f"{kind}({layer['in_channels']}->{layer['out_channels']}, "
                f"k={tuple(layer['kernel_size'])}, s={tuple(layer['stride'])}, "
                f"p={tuple(layer['padding'])}, bias={bias})"
            )
        elif kind.startswith("BatchNorm"):
            text = f"{kind}({layer['num_features']})"
        out[layer["name"]] = text
    return out


def block_layers(c_in: int, c_out: int, stride: int) -> dict[str, str]:
    """What :func:`signature` should say of ResidualBlock(c_in, c_out, stride)."""
    s = (stride, stride)
    layers = {
        "conv1": f"Conv2d({c_in}->{c_out}, k=(3, 3), s={s}, p=(1, 1), bias=False)",
        "bn1": f"BatchNorm2d({c_out})",
        "conv2": f"Conv2d({c_out}->{c_out}, k=(3, 3), s=(1, 1), p=(1, 1), bias=False)",
        "bn2": f"BatchNorm2d({c_out})",
    }
    if stride != 1 or c_in != c_out:
        layers["shortcut"] = "Sequential"
        layers["shortcut.0"] = f"Conv2d({c_in}->{c_out}, k=(1, 1), s={s}, p=(0, 0), bias=False)"
        layers["shortcut.1"] = f"BatchNorm2d({c_out})"
    else:
        layers["shortcut"] = "Identity"
    return layers


def softmax_rows(z: np.ndarray) -> np.ndarray:
    from scipy.special import softmax

    return softmax(z, axis=1)


def nll_reference(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    from scipy.special import log_softmax

    logp = log_softmax(np.divide(logits, float(temperature)), axis=1)
    return float(-logp[np.arange(len(labels)), labels].mean())


def best_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The NLL's minimiser over [0.05, 20], by a fine grid on log T refined by golden sections."""
    grid = np.geomspace(0.05, 20.0, 801)
    values = [nll_reference(logits, labels, t) for t in grid]
    i = int(np.argmin(values))
    lo, hi = np.log(grid[max(i - 1, 0)]), np.log(grid[min(i + 1, len(grid) - 1)])
    golden = (np.sqrt(5) - 1) / 2
    for _ in range(80):
        a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
        if nll_reference(logits, labels, np.exp(a)) < nll_reference(logits, labels, np.exp(b)):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2))


# -- 1. augmentation ---------------------------------------------------------------------


@problem(
    "affine_warp",
    hints=(
        "Work backwards: for every pixel of the output, ask where in the input it comes "
        "from, and read the input there; a position between pixels mixes its four "
        "neighbours by how close it is to each.",
        "Build the row and column index of every output pixel, turn them into source "
        "positions with the formula of the task, split each position into its whole part "
        "(the floor) and its fraction, then add the four neighbours weighted by the "
        "products of fractions, skipping neighbours that fall outside the image.",
        "np.meshgrid with indexing='ij' gives the row and column grids; np.floor, then "
        "astype(int), gives the top-left neighbour. A boolean mask of the in-bounds "
        "neighbours lets you add only those.",
    ),
)
def _affine_warp(t):
    image = np.arange(12, dtype=float).reshape(3, 4)
    t.close(
        t.call("affine_warp", image),
        image,
        what="the image with no change",
        nudge="With angle 0, scale 1 and no shift, every pixel reads itself.",
    )
    moved = t.call("affine_warp", image, shift=(0.0, 1.0))
    t.shape(moved, (3, 4))
    t.close(
        moved,
        [[0, 0, 1, 2], [0, 4, 5, 6], [0, 8, 9, 10]],
        case="a shift of one pixel to the right",
        wrong={
            "The picture moved left: the output reads the input at minus the shift.": [
                [1, 2, 3, 0],
                [5, 6, 7, 0],
                [9, 10, 11, 0],
            ]
        },
        nudge="Pixels that come from outside the image are 0.",
    )
    half = t.call("affine_warp", np.array([[0.0, 4.0, 8.0, 0.0]]), shift=(0.0, 0.5))
    t.close(
        half,
        [[0.0, 2.0, 6.0, 4.0]],
        case="half a pixel to the right (each output mixes two inputs equally)",
        nudge="Bilinear weights: a fraction f of the way from one pixel to the next takes "
        "1 - f of the first and f of the second.",
    )
    square = np.arange(16, dtype=float).reshape(4, 4)
    t.close(
        t.call("affine_warp", square, angle=90.0),
        np.rot90(square),
        atol=1e-9,
        case="a quarter turn anticlockwise",
        wrong={"That turned clockwise: check the signs of the sine terms.": np.rot90(square, -1)},
    )
    ints = t.call("affine_warp", np.array([[1, 2], [3, 4]]), shift=(0.5, 0.0))
    t.dtype(ints, "f", nudge="Integer images give a float result (a bilinear mix is fractional).")
    t.close(ints, [[0.5, 1.0], [2.0, 3.0]], case="an integer image, half a pixel down")


# -- 2. batch normalisation ----------------------------------------------------------------


@problem(
    "batchnorm_forward",
    hints=(
        "In training each channel is standardised with the statistics of the batch in hand, "
        "and the running estimates drift towards them; at evaluation only the running "
        "estimates are used, so one image gets the same answer in any batch.",
        "Average over every axis except the channel axis. Training: the batch mean and the "
        "plain (biased) variance normalise, the running mean and the running variance take "
        "a momentum step towards the batch's, the variance unbiased (times n over n minus "
        "one, n values per channel). Evaluation: normalise with the running values and "
        "return them unchanged. Then scale by gamma and shift by beta, per channel.",
        "Reshape the per-channel vectors to (1, C, 1, 1), or (1, C) for 2-D input, so that "
        "they broadcast. A new running value is (1 - momentum) times the old plus momentum "
        "times the batch's.",
    ),
)
def _batchnorm_forward(t):
    x = np.array([[[[1.0, 3.0]], [[0.0, 0.0]]], [[[5.0, 7.0]], [[2.0, 6.0]]]])  # (2, 2, 1, 2)
    ones, zeros = np.ones(2), np.zeros(2)
    got = t.call("batchnorm_forward", x, ones, zeros, zeros, ones, True, eps=0.0)
    t.true(
        isinstance(got, tuple) and len(got) == 3,
        f"batchnorm_forward returned {type(got).__name__}",
        "Return a tuple (y, new_running_mean, new_running_var).",
    )
    y, new_mean, new_var = got
    t.shape(y, (2, 2, 1, 2))
    z0 = (np.array([1.0, 3.0, 5.0, 7.0]) - 4.0) / np.sqrt(5.0)
    z1 = (np.array([0.0, 0.0, 2.0, 6.0]) - 2.0) / np.sqrt(6.0)
    t.close(
        y[:, 0].ravel(),
        z0,
        what="channel 0 of y",
        nudge="Standardise each channel over the batch AND the spatial positions, with the "
        "biased variance (divide by n).",
    )
    t.close(y[:, 1].ravel(), z1, what="channel 1 of y")
    t.close(
        new_mean,
        [0.4, 0.2],
        what="the new running mean",
        wrong={"The momentum goes on the batch's mean: 0.9 old + 0.1 new.": [3.6, 1.8]},
    )
    t.close(
        new_var,
        [0.9 + 0.1 * 20 / 3, 0.9 + 0.1 * 8.0],
        what="the new running variance",
        wrong={"The running variance uses the UNBIASED batch variance (n / (n - 1)).": [1.4, 1.5]},
    )
    gamma, beta = np.array([2.0, 0.5]), np.array([-1.0, 3.0])
    mean, var = np.array([4.0, 1.0]), np.array([4.0, 0.25])
    y, m2, v2 = t.call("batchnorm_forward", x, gamma, beta, mean, var, False, eps=0.0)
    t.close(
        y[1, :, 0, 0],
        [2.0 * (5.0 - 4.0) / 2.0 - 1.0, 0.5 * (2.0 - 1.0) / 0.5 + 3.0],
        case="evaluation mode",
        nudge="In evaluation mode normalise with the running mean and variance, then scale "
        "by gamma and shift by beta.",
    )
    t.close(m2, mean, case="evaluation mode: the running mean is returned unchanged")
    t.close(v2, var, case="evaluation mode: the running variance is returned unchanged")


# -- 3. residual block ---------------------------------------------------------------------


@problem(
    "ResidualBlock",
    hints=(
        "A residual block learns a correction to its input: two convolutions compute it, "
        "and the input itself is added back before the last activation, reshaped by a "
        "cheap projection only when the block changes the number of channels or the size.",
        "In the constructor create the two 3 x 3 convolutions (the first with the block's "
        "stride), their batch norms, and the shortcut: an identity when nothing changes, "
        "else a 1 x 1 convolution with the stride followed by a batch norm. In forward: "
        "convolution, norm, ReLU, convolution, norm, add the shortcut of the input, ReLU.",
        "The convolutions have no bias (the batch norm right after has its own shift), "
        "and padding 1 keeps the size for a 3 x 3 kernel.",
    ),
)
def _residual_block(t):
    block = t.call("ResidualBlock", 3, 3, keep=True)
    t.instance(block, "torch.nn:Module", nudge="ResidualBlock must subclass nn.Module.")
    t.equal(
        signature(t.value(block, convert=SUMMARY)),
        block_layers(3, 3, 1),
        what="the layers of ResidualBlock(3, 3)",
        nudge="Use the attribute names of the task: conv1, bn1, conv2, bn2 and shortcut "
        "(an nn.Identity when the shape does not change).",
    )
    t.call(f"{HERE}:randomize", block, 1)
    state = t.value(block, convert=STATE)
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 5)).astype(np.float32)
    t.call(block.eval)
    t.close(
        t.call(block, t.build(f"{HERE}:tensor", x, label="x")),
        block_forward(state, x, 1, False),
        rtol=1e-4,
        atol=1e-5,
        case="ResidualBlock(3, 3) in evaluation mode, random weights",
        nudge="conv1, bn1, ReLU, conv2, bn2, then add the input, then a last ReLU.",
    )
    down = t.call("ResidualBlock", 3, 6, stride=2, keep=True)
    t.equal(
        signature(t.value(down, convert=SUMMARY)),
        block_layers(3, 6, 2),
        case="ResidualBlock(3, 6, stride=2)",
        nudge="When the shape changes the shortcut is an nn.Sequential of a 1 x 1 Conv2d "
        "(with the stride, no bias) and a BatchNorm2d.",
    )


# -- 4. saliency and Grad-CAM ------------------------------------------------------------------


@problem(
    "saliency_map",
    hints=(
        "A saliency map asks how much the score of one class would move if each pixel "
        "changed a little: that is the gradient of the score with respect to the input, "
        "computed with the model as it is used for predictions.",
        "Put the model in evaluation mode, make a batch of one from a detached copy of the "
        "image that records gradients, take the target class's score from the model's "
        "output, backpropagate it, and read the input's gradient: its absolute value, the "
        "largest over the channels, as a NumPy array.",
        "requires_grad_(True) on the new input tensor; after backward() its .grad has the "
        "input's shape. amax(dim=0) takes the largest over the channel axis.",
    ),
)
def _saliency_map(t):
    image = np.random.default_rng(1).normal(size=(1, 8, 8)).astype(np.float32)
    got = t.call(
        "saliency_map",
        t.build(f"{HERE}:probe_net", 3, label="net"),
        t.build(f"{HERE}:tensor", image, label="image"),
        2,
    )
    tensor_back = bool(getattr(got, "torch_dtype", ""))
    t.true(
        isinstance(got, np.ndarray) and not tensor_back,
        "saliency_map returned a tensor"
        if tensor_back
        else f"saliency_map returned {type(got).__name__}",
        "Return a NumPy array (.numpy() of a detached tensor).",
    )
    t.shape(got, (8, 8), nudge="One value per pixel: (H, W), without the batch or channel axes.")
    t.true(
        bool((np.asarray(got) >= 0).all()),
        "the saliency map has negative values",
        "Take the absolute value of the gradient: a pixel matters whichever way it pushes.",
    )
    t.close(
        got,
        input_gradient(3, image, 2),
        rtol=1e-4,
        atol=1e-7,
        what="the saliency map",
        nudge="Gradients of the score of class `target`, with the model in evaluation mode "
        "(dropout off, batch norm on its running statistics).",
    )


@problem(
    "grad_cam",
    hints=(
        "Grad-CAM weighs each feature map by how much the class score depends on it on "
        "average, adds the weighted maps, and keeps only the parts that speak for the "
        "class.",
        "Average each channel's gradient over its positions to get one weight per channel; "
        "sum the activation maps times their weights; set negative values to zero; divide "
        "by the largest value, unless nothing is positive.",
    ),
)
def _grad_cam(t):
    acts = np.array([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [2.0, 4.0]]])  # (2, 2, 2)
    grads = np.array([[[2.0, 2.0], [2.0, 2.0]], [[1.0, -1.0], [1.0, 1.0]]])  # means 2 and 0.5
    got = t.call("grad_cam", acts, grads)
    t.shape(got, (2, 2), nudge="One value per position: the channel axis is summed away.")
    t.close(
        got,
        np.array([[2.0, 0.0], [1.0, 2.0]]) / 2.0,
        wrong={
            "Normalise: divide the map by its largest value.": [[2.0, 0.0], [1.0, 2.0]],
            "Weigh the channels by their MEAN gradient (one number per channel).": [
                [1.0, 0.0],
                [0.25, 1.0],
            ],
        },
        nudge="Weights: each channel's gradient averaged over its positions.",
    )
    flat = t.call("grad_cam", acts, -grads)
    t.close(
        flat,
        np.zeros((2, 2)),
        case="no evidence for the class (every weighted sum negative)",
        nudge="Negative evidence is cut to 0 (a ReLU); an all-zero map stays all zero.",
    )


@problem(
    "top_confusions",
    hints=(
        "A confusion is a pair (true class, predicted class) that differ; the most common "
        "pairs show where the model struggles.",
        "Count each pair of true and predicted classes that differ, sort by count from most "
        "to least, breaking ties by the pair itself (smaller true class first, then "
        "smaller predicted class), and keep the first k.",
    ),
)
def _top_confusions(t):
    y_true = [8, 3, 5, 3, 8, 1, 3, 5]
    y_pred = [1, 5, 3, 5, 1, 1, 3, 3]
    got = t.call("top_confusions", y_true, y_pred, 2)
    t.equal(
        got,
        [(3, 5, 2), (5, 3, 2)],
        wrong={
            "Ties: the smaller true class first.": [(5, 3, 2), (3, 5, 2)],
            "Three pairs tie here: sort ties by the pair, not by the order they were seen.": [
                (8, 1, 2),
                (3, 5, 2),
            ],
        },
        nudge="A list of (true, predicted, count) tuples, most frequent first; right "
        "answers (true equal to predicted) are not confusions.",
    )
    t.equal(
        t.call("top_confusions", y_true, y_pred, 5),
        [(3, 5, 2), (5, 3, 2), (8, 1, 2)],
        case="k larger than the number of confused pairs",
    )


# -- 5. calibration --------------------------------------------------------------------------


@problem(
    "calibration_error",
    hints=(
        "A calibrated model that says 80 % is right 80 % of the time. Group the "
        "predictions by confidence and compare, in each group, how often they are right "
        "with how sure they were; weigh each group by its size.",
        "Confidence is the largest probability of each row, the prediction its position. "
        "With equal-width bins over [0, 1], each bin open on the left and closed on the "
        "right, add for each non-empty bin its share of the examples times the absolute "
        "gap between its accuracy and its mean confidence.",
        "The edges come from np.linspace(0, 1, n_bins + 1); a confidence equal to an edge "
        "belongs to the bin that edge closes. Return a Python float.",
    ),
)
def _calibration_error(t):
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]])
    got = t.call("calibration_error", probs, np.array([0, 1, 1, 1]), 10)
    t.true(
        type(got) is float,
        f"the error is a {type(got).__name__}",
        "Return a Python float (float(...)).",
    )
    t.close(
        got,
        0.4,
        wrong={"Weigh each bin by its SHARE of the examples (count / N).": 0.8},
        nudge="Two bins: confidence 0.9 with accuracy 0.5, and 0.6 with accuracy 1.",
    )
    edge = np.array([[0.5, 0.5], [0.75, 0.25], [0.4, 0.6]])  # right, wrong, right
    t.close(
        t.call("calibration_error", edge, np.array([0, 1, 1]), 4),
        0.5 / 3 + abs(0.5 - 0.675) * 2 / 3,
        case="confidences exactly on the bin edges 0.5 and 0.75",
        wrong={
            "Weigh each bin's gap by its share of the examples.": (0.5 + 0.175) / 2,
        },
        nudge="Bins are open on the left and closed on the right: 0.5 belongs to (0.25, 0.5].",
    )


@problem(
    "temperature_nll",
    hints=(
        "Dividing the logits by a temperature above 1 flattens the softmax, below 1 "
        "sharpens it; the negative log-likelihood measures how much probability the "
        "right classes get.",
        "Divide the logits by the temperature, take the log-softmax of each row in a stable "
        "way (subtract the row's largest value before exponentiating), pick each row's "
        "entry at its label, and return minus their mean. Refuse a temperature that is not "
        "positive.",
        "log-softmax of z is z minus the log of the sum of exp(z), and that log is the "
        "row's maximum plus the log of the sum of exp(z minus the maximum).",
    ),
)
def _temperature_nll(t):
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    labels = np.array([0, 0, 1])
    got = t.call("temperature_nll", logits, labels, 1.0)
    t.true(type(got) is float, f"the NLL is a {type(got).__name__}", "Return a Python float.")
    t.close(
        got,
        nll_reference(logits, labels, 1.0),
        wrong={
            "The negative log-likelihood is MINUS the mean log-probability.": -nll_reference(
                logits, labels, 1.0
            )
        },
    )
    t.close(
        t.call("temperature_nll", logits, labels, 2.0),
        nll_reference(logits, labels, 2.0),
        case="temperature 2",
        wrong={
            "Divide the logits by the temperature, do not multiply.": nll_reference(
                logits, labels, 0.5
            )
        },
    )
    t.raises(ValueError, "temperature_nll", logits, labels, -1.0, case="a negative temperature")


@problem(
    "fit_temperature",
    hints=(
        "Temperature scaling has one parameter, fitted on held-out data by making the "
        "right labels as likely as possible; the negative log-likelihood has a single "
        "minimum as a function of the inverse temperature, so a one-dimensional search "
        "finds it.",
        "Minimise your temperature_nll over T between 0.05 and 20: search over the log of "
        "T (a bounded scalar minimiser, or your own golden-section search), and return the "
        "best T as a Python float.",
        "scipy.optimize.minimize_scalar with method='bounded' and bounds in log T takes a "
        "function of one number; exponentiate its result.",
    ),
)
def _fit_temperature(t):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(400, 4)) * 1.5
    labels = np.array([rng.choice(4, p=p) for p in softmax_rows(z)])
    got = t.call("fit_temperature", 3.0 * z, labels)
    t.true(
        type(got) is float, f"the temperature is a {type(got).__name__}", "Return a Python float."
    )
    t.close(
        got,
        best_temperature(3.0 * z, labels),
        rtol=1e-3,
        what="the fitted temperature",
        nudge="These logits are three times too sharp: the best temperature is near 3.",
    )


# -- 6. serving ---------------------------------------------------------------------------


@problem(
    "preprocess_digit",
    hints=(
        "The model only knows digits drawn the way its training data were: bright strokes "
        "on black, filling the height of an 8 x 8 grid, centred. Turn any upload into that.",
        "Decode the bytes (refusing what does not decode with a ValueError), put "
        "transparency on white, turn it to grey in [0, 1], invert it when the border is "
        "light, crop to the box of pixels with ink above 0.2, pad the box to a centred "
        "square, average it down to 8 x 8 with Pillow's box filter, and scale so the "
        "largest pixel is 16.",
        "Pillow's Image.open needs a file: wrap the bytes in io.BytesIO and call .load() "
        "inside the try, so that a truncated file fails there. np.flatnonzero on the rows "
        "and columns that have any ink gives the box.",
    ),
)
def _preprocess_digit(t):
    pattern = framed_pattern()
    got = t.call("preprocess_digit", png(on_paper(pattern, 6)))
    t.shape(got, (8, 8), nudge="Return the 8 x 8 array the model reads.")
    t.dtype(got, "f")
    t.close(
        got,
        scaled(quantised(pattern)),
        atol=1e-4,
        what="a dark pattern on white paper, enlarged 6 times",
        nudge="Crop to the ink's box (this one is square), average down to 8 x 8, and scale "
        "so that the largest value is 16.",
    )
    t.raises(
        ValueError,
        "preprocess_digit",
        png(np.full((30, 30), 255)),
        nudge="A blank image has no ink: raise a ValueError that says so.",
    )
    t.raises(
        ValueError,
        "preprocess_digit",
        b"this is not a picture",
        nudge="Bytes that Pillow cannot decode are the caller's mistake: a ValueError.",
    )


@problem(
    "create_vision_app",
    hints=(
        "A service that accepts uploads checks what it is given before it works on it: "
        "the media type, then the size, then whether the bytes can be used; each problem "
        "has its own 4xx status and a JSON message, and nothing reaches the model unchecked.",
        "Read the Content-Type header (the part before any semicolon, lower case) and answer "
        "415 unless it is image/png or image/jpeg; read the raw body and answer 413 if it "
        "is longer than max_bytes, 400 if it is empty; call preprocess and turn a "
        "ValueError into a 422; then return the label (the most probable digit, an int) "
        "and the ten probabilities as floats.",
        "Take a starlette Request in the endpoint and await request.body(); return "
        "JSONResponse({'detail': ...}, status_code=...) for each error.",
    ),
)
def _create_vision_app(t):
    pre = t.build(f"{HERE}:FakePreprocess", label="preprocess")
    model = t.build(f"{HERE}:FakeModel", label="predict_proba")
    app = t.call("create_vision_app", pre, model, keep=True)
    answers = t.call(
        HTTP,
        app,
        [
            {
                "method": "POST",
                "url": "/predict",
                "content": b"OK\x07",
                "headers": {"content-type": "image/png"},
            },
            {
                "method": "POST",
                "url": "/predict",
                "content": b"OK\x07",
                "headers": {"content-type": "text/plain"},
            },
            {"method": "GET", "url": "/health"},
        ],
    )
    ok, wrong_type, health = answers
    t.equal(
        ok["status"],
        200,
        what="the status of a PNG upload",
        wrong={
            "A 500 means your endpoint raised: try it with TestClient to see the traceback "
            "(NumPy numbers must become int and float before they can be JSON).": 500
        },
    )
    t.equal(
        ok.get("json"),
        {"label": 7, "probabilities": fake_answer(7)},
        what="the JSON answer to a PNG upload",
        nudge='Answer {"label": <an int>, "probabilities": [<ten floats>]}.',
    )
    t.equal(
        wrong_type["status"],
        415,
        what="the status of a text/plain upload",
        nudge="415 Unsupported Media Type, before the body is even read.",
    )
    t.true(
        isinstance(wrong_type.get("json"), dict)
        and isinstance(wrong_type["json"].get("detail"), str),
        "the 415 answer has no JSON 'detail' message",
        'Every error answers JSON like {"detail": "what is wrong"}.',
    )
    t.equal(health["status"], 200, what="the status of GET /health")


# -- the quiz ----------------------------------------------------------------------------

choice(
    "q_flip_digits",
    options="abcd",
    hints=(
        "An augmentation must keep the label: the transformed picture should still be "
        "the same digit.",
        "Picture each change on a 2, a 5 and a 7.",
    ),
)
choice(
    "q_bn_batch",
    options="abcd",
    hints=(
        "Which layer's output depends on the other examples of its batch?",
        "Think about the two modes of that layer.",
    ),
)
number(
    "q_temperature_accuracy",
    hints=(
        "Dividing all the logits of an example by the same positive number keeps their order.",
        "Accuracy only looks at the largest logit.",
    ),
)
number(
    "q_ece_example",
    hints=(
        "Group the predictions by confidence; compare each group's accuracy with its confidence.",
        "Weigh each group's gap by its share of all the predictions, and add.",
    ),
)
number(
    "q_shortcut_params",
    hints=(
        "The projection shortcut is a 1 x 1 convolution without bias, then a batch norm.",
        "A 1 x 1 convolution has one weight per pair of input and output channels; a batch "
        "norm has a scale and a shift per channel.",
    ),
)
choice(
    "q_gif_status",
    options="abcde",
    hints=(
        "The request is well formed, not too large, but of a kind the service does not take.",
        "One status code means exactly that the media type is not supported.",
    ),
)
