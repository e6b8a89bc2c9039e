"""Checks for ``03_specialize/edge_ai.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks and the hints, never
a solution or a hidden test.

What the learner's code needs that is not data is built on the learner's side
by the course code below: a :class:`Workload` (a function that takes known
times, and the fake clock that measures it) for the timing exercise, and the
driver :func:`loss_and_gradients`, which calls the learner's distillation loss on
tensors that record gradients and reports the value and the gradients as
data. Expected values are computed here, with NumPy or with PyTorch's own
functions.
"""

from __future__ import annotations

import numpy as np

from mlcourse.check import choice, number, problem
from mlcourse.check.judge import Ref

HERE = "mlcourse.exercises.edge_ai"
#: The smallest scale PyTorch's observers allow: float32's machine epsilon.
EPS = float(np.finfo(np.float32).eps)


# -- course code that runs on the learner's side --------------------------------------------


class Workload:
    """A function whose calls take known times, measured by its own fake clock.

    Call ``i`` (counting from 0) advances the clock by ``durations[i]``
    seconds; calls past the end of the list take 1 s each. ``calls`` records
    the argument of every call, and ``reads`` how often the clock was read.
    """

    def __init__(self, durations, start: float = 1000.0):
        self.durations = [float(d) for d in durations]
        self.now = float(start)
        self.calls: list = []
        self.reads = 0

    def clock(self) -> float:
        self.reads += 1
        return self.now

    def __call__(self, x):
        index = len(self.calls)
        self.calls.append(x)
        self.now += self.durations[index] if index < len(self.durations) else 1.0
        return x


def loss_and_gradients(fn, student, teacher, labels, temperature: float, alpha: float) -> dict:
    """Call ``fn`` on float32 tensors that record gradients; report what came back, as data.

    ``grad`` is the gradient of the loss with respect to the student's logits;
    ``teacher_grad`` says whether a gradient reached the teacher's logits.
    """
    import torch

    s = torch.tensor(np.asarray(student, dtype=np.float32), requires_grad=True)
    t = torch.tensor(np.asarray(teacher, dtype=np.float32), requires_grad=True)
    y = torch.tensor(np.asarray(labels), dtype=torch.int64)
    loss = fn(s, t, y, temperature, alpha)
    report = {"type": type(loss).__name__, "is_tensor": isinstance(loss, torch.Tensor)}
    if not report["is_tensor"]:
        return report
    report["shape"] = list(loss.shape)
    report["dtype"] = str(loss.dtype)
    report["value"] = float(loss.detach().reshape(-1)[0]) if loss.numel() else float("nan")
    report["differentiable"] = bool(loss.requires_grad)
    if loss.requires_grad and loss.numel() == 1:
        loss.reshape(()).backward()
    report["grad"] = None if s.grad is None else s.grad.numpy().astype(np.float64)
    report["teacher_grad"] = t.grad is not None and bool(t.grad.abs().sum() > 0)
    return report


# -- references, computed on the checks' side ----------------------------------------------


def named(ref, label: str):
    """The same Ref, shown as ``label`` in what the checks say they called."""
    return Ref({**ref._target, "label": label})


def kd_reference(student, teacher, labels, temperature, alpha):
    """The distillation loss and its gradient, from PyTorch's own kl_div and cross_entropy.

    Returns ``(value, gradient w.r.t. the student's logits, soft term, hard term)``
    in float64, so that the checks can also recognise a loss built wrongly.
    """
    import torch
    import torch.nn.functional as F

    s = torch.tensor(np.asarray(student, dtype=np.float64), requires_grad=True)
    t = torch.tensor(np.asarray(teacher, dtype=np.float64))
    y = torch.tensor(np.asarray(labels), dtype=torch.int64)
    T = float(temperature)
    log_ps, log_pt = F.log_softmax(s / T, dim=1), F.log_softmax(t / T, dim=1)
    kl = F.kl_div(log_ps, log_pt, reduction="batchmean", log_target=True)
    ce = F.cross_entropy(s, y)
    total = alpha * T**2 * kl + (1.0 - alpha) * ce
    total.backward()
    return float(total.detach()), s.grad.numpy(), float(kl.detach()), float(ce.detach())


def kd_wrong_values(student, teacher, labels, temperature, alpha) -> dict:
    """Values that known slips give, for targeted nudges."""
    import torch
    import torch.nn.functional as F

    s = torch.tensor(np.asarray(student, dtype=np.float64))
    t = torch.tensor(np.asarray(teacher, dtype=np.float64))
    y = torch.tensor(np.asarray(labels), dtype=torch.int64)
    T = float(temperature)
    log_ps, log_pt = F.log_softmax(s / T, dim=1), F.log_softmax(t / T, dim=1)
    hard = float(F.cross_entropy(s, y))
    soft = float(F.kl_div(log_ps, log_pt, reduction="batchmean", log_target=True))
    reverse = float(F.kl_div(log_pt, log_ps, reduction="batchmean", log_target=True))
    elementwise = soft / s.shape[1]  # reduction="mean": divided by the classes too
    soft_hard = float(F.cross_entropy(s / T, y))
    plain_s, plain_t = F.log_softmax(s, dim=1), F.log_softmax(t, dim=1)
    unsoftened = float(F.kl_div(plain_s, plain_t, reduction="batchmean", log_target=True))
    a, b = alpha, 1 - alpha
    return {
        "The soft term is missing its factor T squared: without it, its gradients shrink "
        "as the temperature grows.": a * soft + b * hard,
        "The KL divergence goes from the teacher to the student: the teacher's "
        "probabilities weigh the log ratio, not the student's.": a * T * T * reverse + b * hard,
        "Average the KL divergence over the examples of the batch, not over every entry "
        "(that also divides by the number of classes).": a * T * T * elementwise + b * hard,
        "The cross-entropy with the labels uses the student's plain logits, not the "
        "softened ones.": a * T * T * soft + b * soft_hard,
        "Soften both sets of logits with the temperature before the softmax.": a * unsoftened
        + b * hard,
        "alpha weighs the soft (teacher) term and 1 - alpha the labels, not the other way round.": b
        * T
        * T
        * soft
        + a * hard,
    }


def int8_reference(x_q, x_zero_point, w_q, x_scale, w_scale, bias):
    """The int32 accumulator and the float output of an int8 linear layer, computed in int64."""
    acc = (np.asarray(x_q, dtype=np.int64) - int(x_zero_point)) @ np.asarray(w_q, dtype=np.int64).T
    offset = 0.0 if bias is None else np.asarray(bias, dtype=np.float64)
    return acc, acc * (float(x_scale) * np.asarray(w_scale, dtype=np.float64)) + offset


def qparams_reference(x, qmin: int = -128, qmax: int = 127) -> tuple[float, int]:
    """Scale and zero point as PyTorch's MinMaxObserver computes them (in float64)."""
    values = np.array(x, float)
    low = min(0.0, float(values.min()))
    width = max(0.0, float(values.max())) - low
    scale = float(np.maximum(width / float(qmax - qmin), EPS))
    return scale, int(qmin - round(low / scale))


# -- the problems ---------------------------------------------------------------------------


@problem(
    "time_calls",
    hints=(
        "A timer says how long one call took only when it is read just before and just "
        "after that call; the first calls of a model are slower than the rest and are not "
        "what a device sees once it is running.",
        "Make the warm-up calls without timing them. Then, for each timed repeat, read the "
        "clock you were given, make one call, read the clock again, and keep the difference, "
        "in seconds, in a list.",
        "Read time through the clock argument (never time.perf_counter directly), so that "
        "a test can hand you a fake clock. Each duration is a Python float; check that "
        "repeats is at least 1 and warmup at least 0.",
    ),
)
def _time_calls(t):
    work = named(t.build(f"{HERE}:Workload", [0.5, 0.25, 0.001, 0.002, 0.004]), "work")
    got = t.call("time_calls", work, 7.0, warmup=2, repeats=3, clock=work.clock)
    t.type(got, list, "Return a list, with one duration per timed call.")
    t.true(
        len(got) == 3,
        f"your list has {len(got)} durations for repeats=3",
        "One duration per timed repeat: the warm-up calls are made, but not timed.",
    )
    t.close(
        got,
        [0.001, 0.002, 0.004],
        rtol=1e-9,
        atol=1e-12,
        wrong={
            "Your durations are in milliseconds: the task asks for seconds.": [1.0, 2.0, 4.0],
            "These are the first three calls: the warm-up calls come first, untimed.": [
                0.5,
                0.25,
                0.001,
            ],
            "Each duration is one call, not the time since the first timed call.": [
                0.001,
                0.003,
                0.007,
            ],
        },
        nudge="Read the clock you were given just before and just after each timed call.",
    )
    t.equal(
        t.value(work.calls),
        [7.0] * 5,
        what="the arguments the function was called with",
        nudge="Call the function warmup + repeats times, each time with x.",
    )
    t.raises(
        ValueError,
        "time_calls",
        work,
        7.0,
        warmup=1,
        repeats=0,
        clock=work.clock,
        nudge="With repeats=0 there is nothing to measure: raise a ValueError.",
    )


@problem(
    "latency_percentile",
    hints=(
        "A percentile is a value below which a given share of the sorted samples lies; "
        "between two samples it is read off the straight line joining them.",
        "Sort a copy of the samples. The position of the q-th percentile counts from 0 to "
        "the last index, in proportion to q; take the samples on both sides of that "
        "position and interpolate between them by its fractional part.",
        "For n samples the position is q / 100 times (n - 1). Return a Python float, and "
        "raise a ValueError for no samples or for q outside 0 to 100.",
    ),
)
def _latency_percentile(t):
    got = t.call("latency_percentile", [4, 1, 3, 2], 50)
    t.true(
        type(got) is float,
        f"the percentile is a {type(got).__name__}",
        "Return a Python float (float(...)), even for integer samples.",
    )
    t.close(
        got,
        2.5,
        wrong={"Sort the samples first: a percentile is read from the sorted values.": 2.0},
        nudge="Between two samples the percentile lies on the line joining them.",
    )
    five = [10.0, 20.0, 30.0, 40.0, 50.0]
    t.close(
        t.call("latency_percentile", five, 90),
        46.0,
        case="q = 90 of five samples",
        wrong={
            "That is the nearest sample: interpolate between the two samples around the "
            "position.": 50.0,
            "The position runs from 0 to n - 1, not to n.": 55.0,
        },
    )
    t.close(t.call("latency_percentile", five, 0), 10.0, case="q = 0 (the fastest call)")
    t.close(t.call("latency_percentile", five, 100), 50.0, case="q = 100 (the slowest call)")
    t.raises(
        ValueError,
        "latency_percentile",
        [],
        50,
        nudge="No samples, no percentile: raise a ValueError.",
    )


@problem(
    "affine_qparams",
    hints=(
        "An affine code spreads the integers evenly over the real range it must cover, and "
        "that range must contain zero so that zero is stored exactly.",
        "Stretch the observed range to include zero. The scale is its width divided by the "
        "number of steps between the smallest and the largest integer; the zero point is "
        "the integer that zero lands on, counted from the smallest integer.",
        "Keep the scale at least float32's machine epsilon (an all-zero tensor has width 0). "
        "Round the zero point to the nearest integer, keep it within qmin and qmax, and "
        "return (a Python float, a Python int).",
    ),
)
def _affine_qparams(t):
    got = t.call("affine_qparams", np.array([-1.0, 0.5, 3.0]))
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"affine_qparams returned {type(got).__name__}",
        "Return a pair (scale, zero_point).",
    )
    scale, zero_point = got
    t.true(
        type(scale) is float,
        f"the scale is a {type(scale).__name__}",
        "Return the scale as a Python float.",
    )
    t.true(
        type(zero_point) is int,
        f"the zero point is a {type(zero_point).__name__}",
        "The zero point is an integer: round it, and return a Python int.",
    )
    t.close(
        scale,
        4.0 / 255.0,
        what="the scale for the range -1 to 3",
        wrong={"There are qmax - qmin steps between 256 integers, not 256.": 4.0 / 256.0},
    )
    t.equal(
        zero_point,
        -64,
        what="the zero point for the range -1 to 3",
        wrong={"The zero point counts from qmin: zero sits 64 steps above it.": 64},
    )
    positive = t.call("affine_qparams", np.array([0.5, 2.0]))
    t.close(
        positive[0],
        2.0 / 255.0,
        case="only positive values (the range still starts at 0)",
        wrong={"Stretch the range to include 0 before computing the scale.": 1.5 / 255.0},
    )
    t.equal(positive[1], -128, case="only positive values: zero is the smallest integer")


@problem(
    "quantize_int8",
    hints=(
        "Quantizing divides by the step size, rounds to the nearest integer and shifts by the "
        "zero point; values outside the representable range are held at its ends.",
        "Divide by the scale, add the zero point, round half to even (the way NumPy and "
        "PyTorch round), clip to qmin and qmax, and only then store the result as int8.",
        "The order matters: an int8 array cannot hold 200, so converting before clipping "
        "wraps values around instead of saturating them.",
    ),
)
def _quantize_int8(t):
    x = np.array([0.0, 1.25, -1.25, 0.75, 100.0, -100.0])
    got = t.call("quantize_int8", x, 0.5, 3)
    t.shape(got, (6,))
    t.true(
        got.dtype == np.int8,
        f"the codes have dtype {got.dtype}",
        "Store the codes as np.int8 (after clipping).",
    )
    t.equal(
        got.astype(int).tolist(),
        [3, 6, 0, 4, 127, -128],
        what="the codes",
        wrong={
            "Add the zero point before rounding, as the formula (and PyTorch) does: with an "
            "odd zero point, halves round the other way.": [3, 5, 1, 5, 127, -128],
            "Halves round to the even integer (5.5 to 6, 4.5 to 4), as np.round does.": [
                3,
                6,
                1,
                5,
                127,
                -128,
            ],
            "Truncating is not rounding: 5.5 must become 6.": [3, 5, 0, 4, 127, -128],
            "Clip before converting to int8: 203 wrapped around to -53 instead of saturating "
            "at 127.": [3, 6, 0, 4, -53, 59],
        },
        nudge="Divide by the scale, add the zero point, round, then clip to qmin and qmax.",
    )
    four = t.call("quantize_int8", np.array([-3.0, 0.2, 3.0]), 0.25, 0, -8, 7)
    t.equal(
        four.astype(int).tolist(),
        [-8, 1, 7],
        case="a 4-bit range, qmin -8 and qmax 7",
        nudge="Clip to the qmin and qmax you were given, not to the int8 limits.",
    )


@problem(
    "int8_linear",
    hints=(
        "An int8 layer multiplies small integers and adds the products up in a wider integer, "
        "then one multiplication by the scales turns the sum back into real units.",
        "Widen both code arrays to int32, take the zero point off the input codes, and "
        "multiply them as the float layer would (input times the transposed weights). Scale "
        "each output column by the input scale times that output's weight scale, then add "
        "the bias.",
        "Widen before subtracting: an int8 array cannot hold 127 minus -128. Return the pair "
        "(y as float32, the int32 accumulator), and raise a ValueError when the input has "
        "the wrong number of features.",
    ),
)
def _int8_linear(t):
    x_q = np.array([[127, -128, 3], [0, 10, -20]], dtype=np.int8)
    w_q = np.array([[1, 2, 3], [-127, 127, 5]], dtype=np.int8)
    w_scale = np.array([0.01, 0.02])
    bias = np.array([0.5, -1.0])
    got = t.call("int8_linear", x_q, 0.1, -3, w_q, w_scale, bias)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"int8_linear returned {type(got).__name__}",
        "Return a pair (y, acc).",
    )
    y, acc = got
    t.shape(acc, (2, 2), "The accumulator has one row per input and one column per output.")
    t.true(
        acc.dtype == np.int32,
        f"the accumulator has dtype {acc.dtype}",
        "Accumulate in int32, the width integer kernels use.",
    )
    want_acc, want_y = int8_reference(x_q, -3, w_q, 0.1, w_scale, bias)
    t.equal(
        acc.astype(np.int64).tolist(),
        want_acc.tolist(),
        what="the accumulator",
        wrong={
            "Take the zero point off the input codes before multiplying.": (
                x_q.astype(np.int64) @ w_q.astype(np.int64).T
            ).tolist(),
        },
        nudge="Widen to int32 before any arithmetic: int8 wraps around at 127.",
    )
    t.true(
        y.dtype == np.float32,
        f"y has dtype {y.dtype}",
        "Return y as float32, the type an int8 kernel hands back.",
    )
    t.close(
        y,
        want_y,
        rtol=1e-5,
        atol=1e-6,
        nudge="Each output column has its own weight scale; the bias is added last.",
    )


@problem(
    "magnitude_prune",
    hints=(
        "Magnitude pruning assumes that the weights nearest to zero matter least, and "
        "global pruning compares all the layers' weights with one another, not within each "
        "layer.",
        "Pool the absolute values of every layer's weights, find the requested number of "
        "smallest ones (the sparsity times the total count, rounded), and mark exactly "
        "those as pruned. Then cut the pooled mask back into one mask per layer.",
        "A sort of the pooled magnitudes gives the positions to prune, and exactly that "
        "many even when several weights tie. Masks are boolean arrays shaped like the "
        "weights, True where a weight is kept.",
    ),
)
def _magnitude_prune(t):
    weights = {
        "a": np.array([[0.1, -0.9], [0.5, -0.05]]),
        "b": np.array([0.02, -0.03, 0.01]),
    }
    got = t.call("magnitude_prune", weights, 0.4)
    t.true(
        isinstance(got, dict) and list(got) == ["a", "b"],
        f"magnitude_prune returned {type(got).__name__}"
        + (f" with keys {list(got)}" if isinstance(got, dict) else ""),
        "Return a dict with one mask per layer, under the same names.",
    )
    t.shape(got["a"], (2, 2), "Each mask has the shape of its layer's weights.")
    t.dtype(got["a"], "b", "A mask is a boolean array: True keeps a weight.")
    t.equal(
        [got["a"].tolist(), got["b"].tolist()],
        [[[True, True], [True, True]], [False, False, False]],
        what="the masks at sparsity 0.4 (3 of 7 weights pruned)",
        wrong={
            "Count with Python's round: 0.4 times 7 is 2.8, so 3 weights go, not 2.": [
                [[True, True], [True, True]],
                [False, True, False],
            ],
            "That prunes each layer on its own: global pruning ranks all the weights together.": [
                [[False, True], [True, False]],
                [True, True, False],
            ],
            "Rank the weights by their absolute value: -0.9 is a large weight.": [
                [[True, False], [True, False]],
                [True, False, True],
            ],
        },
    )
    none = t.call("magnitude_prune", weights, 0.0)
    t.equal(
        [none["a"].tolist(), none["b"].tolist()],
        [[[True, True], [True, True]], [True, True, True]],
        case="sparsity 0 (every weight kept)",
    )


@problem(
    "distillation_loss",
    hints=(
        "The student learns from the teacher's whole probability distribution, softened by a "
        "temperature, as well as from the labels; the soft part is a divergence between two "
        "distributions.",
        "Divide both sets of logits by the temperature and turn them into log-probabilities. "
        "The soft term is the KL divergence from the teacher's distribution to the "
        "student's, summed over classes and averaged over the batch, times the temperature "
        "squared. The hard term is the ordinary cross-entropy. Weigh them by alpha and one "
        "minus alpha.",
        "Use log-softmax (it is stable for large logits) and detach the teacher's logits so "
        "that no gradient reaches the teacher. Return a scalar tensor, so that backward "
        "works.",
    ),
)
def _distillation_loss(t):
    s = [[2.0, 0.5, -1.0], [0.0, 1.0, 0.0]]
    teacher = [[3.0, 0.0, -2.0], [0.5, 0.5, 2.0]]
    labels = [0, 2]
    fn = t.ref("distillation_loss")
    got = t.call(f"{HERE}:loss_and_gradients", fn, s, teacher, labels, 2.0, 0.7)
    t.true(
        got.get("is_tensor") is True,
        f"distillation_loss returned a {got.get('type')}",
        "Return a torch tensor, so that the student can be trained with backward.",
    )
    t.true(
        got.get("shape") == [],
        f"the loss has shape {got.get('shape')}",
        "Return one number for the whole batch: a scalar tensor (shape ()).",
    )
    value, grad, _, _ = kd_reference(s, teacher, labels, 2.0, 0.7)
    t.close(
        got["value"],
        value,
        rtol=1e-5,
        wrong=kd_wrong_values(s, teacher, labels, 2.0, 0.7),
        what="the loss",
    )
    t.true(
        got.get("grad") is not None,
        "no gradient reached the student's logits",
        "Build the loss from the student's logits with torch operations, without detaching them.",
    )
    t.close(got["grad"], grad, rtol=1e-4, atol=1e-6, what="the gradient of the loss")
    t.true(
        got.get("teacher_grad") is False,
        "a gradient reached the teacher's logits",
        "The teacher is fixed: detach its logits.",
    )


@problem(
    "outputs_match",
    hints=(
        "An exported model is the same model when its outputs match the original's within a "
        "tolerance measured against the original, and when it ranks the classes the same way.",
        "Refuse arrays of different shapes. Compute the absolute differences; the outputs "
        "match when every difference is within the absolute tolerance plus the relative "
        "tolerance times the size of the reference value. Count the rows whose largest "
        "entry is in the same place.",
        "A NaN compares false with everything, so a test written as no difference above the "
        "tolerance lets a NaN through: ask that every difference be within it. Return Python "
        "types (float, bool, float).",
    ),
)
def _outputs_match(t):
    ref = np.array([[1.0, 2.0], [3.0, -1.0]])
    cand = ref + np.array([[1e-6, 0.0], [0.0, -2e-6]])
    got = t.call("outputs_match", ref, cand)
    t.true(
        isinstance(got, dict) and sorted(got) == ["allclose", "max_abs_diff", "top1_agreement"],
        f"outputs_match returned {type(got).__name__}"
        + (f" with keys {sorted(got)}" if isinstance(got, dict) else ""),
        "Return a dict with the keys max_abs_diff, allclose and top1_agreement.",
    )
    t.true(
        type(got["allclose"]) is bool,
        f"allclose is a {type(got['allclose']).__name__}",
        "Return allclose as a Python bool (bool(...)).",
    )
    t.close(got["max_abs_diff"], 2e-6, rtol=1e-6, atol=1e-12, what="max_abs_diff")
    t.equal(got["allclose"], True, what="allclose for differences of 2e-6")
    t.close(
        got["top1_agreement"],
        1.0,
        what="top1_agreement",
        wrong={"The agreement is a fraction of the rows, not a count.": 2.0},
    )
    flipped = np.array([[2.5, 2.0], [3.0, -1.0]])
    far = t.call("outputs_match", ref, flipped)
    t.equal(far["allclose"], False, case="a difference of 1.5")
    t.close(
        far["top1_agreement"],
        0.5,
        case="one row of two with another top class",
        wrong={"The agreement is a fraction of the rows, not a count.": 1.0},
    )
    t.raises(
        ValueError,
        "outputs_match",
        ref,
        ref[:, :1],
        nudge="Shapes (2, 2) and (2, 1) would broadcast: refuse them with a ValueError.",
    )


@problem(
    "choose_model",
    hints=(
        "A budget is a hard limit on the worst case you will accept, and among the models "
        "inside every limit you want the best one, with a fixed rule for ties.",
        "A model fits when its size in bytes is at most the budget in megabytes (a million "
        "bytes each) and its 99th-percentile latency is at most the latency budget; both "
        "limits include their boundary. Among the fitting models pick the most accurate, "
        "then the smaller, then the earlier in the list.",
        "Return a dict with a list of Python bools, one per row, and the chosen name (None "
        "when nothing fits).",
    ),
)
def _choose_model(t):
    rows = [
        {"name": "big", "bytes": 1_200_000, "p50_ms": 0.2, "p99_ms": 0.5, "accuracy": 0.98},
        {"name": "edge", "bytes": 1_000_000, "p50_ms": 1.0, "p99_ms": 2.0, "accuracy": 0.97},
        {"name": "slow", "bytes": 100_000, "p50_ms": 3.0, "p99_ms": 12.0, "accuracy": 0.975},
        {"name": "tiny", "bytes": 20_000, "p50_ms": 0.05, "p99_ms": 0.1, "accuracy": 0.95},
    ]
    got = t.call("choose_model", rows, 1.0, 10.0)
    t.true(
        isinstance(got, dict) and sorted(got) == ["choice", "fits"],
        f"choose_model returned {type(got).__name__}"
        + (f" with keys {sorted(got)}" if isinstance(got, dict) else ""),
        "Return a dict with the keys fits and choice.",
    )
    t.equal(
        got["fits"],
        [False, True, False, True],
        what="fits",
        wrong={
            "A model exactly at the size budget fits: the limit includes its boundary.": [
                False,
                False,
                False,
                True,
            ],
            "Judge latency by the p99, not the p50: the budget is a worst case.": [
                False,
                True,
                True,
                True,
            ],
        },
    )
    t.equal(
        got["choice"],
        "edge",
        what="choice",
        nudge="Among the models that fit, take the most accurate.",
    )
    t.equal(
        t.call("choose_model", rows, 0.01, 10.0)["choice"],
        None,
        case="a 0.01 MB budget no model fits",
        nudge="When no model fits, the choice is None.",
    )


# -- the quiz -------------------------------------------------------------------------------

number(
    "q_error_bound",
    hints=(
        "Rounding to the nearest step is never wrong by more than half a step.",
        "Find the step size (the scale) for this range and these integers first.",
    ),
)
number(
    "q_accumulator",
    hints=(
        "The largest sum comes from the largest possible product, repeated for every input.",
        "The largest magnitude of an int8 code is the one at the bottom of its range.",
    ),
)
choice(
    "q_dynamic",
    options="abcd",
    hints=(
        "Ask what is known before the model runs, and what is known only once a batch arrives.",
        "The weights never change after training; the activations change with every input.",
    ),
)
choice(
    "q_prune_size",
    options="abcd",
    hints=(
        "A dense tensor stores every entry with the same number of bytes, whatever its value.",
        "Ask what would have to change in the file for zeros to take less room.",
    ),
)
choice(
    "q_temperature",
    options="abcd",
    hints=(
        "Dividing the logits by the temperature also divides the gradients that flow back "
        "through them.",
        "Work out how the soft term's gradient scales with the temperature, and what the "
        "factor does to it.",
    ),
)
number(
    "q_p99",
    hints=(
        "A percentile of sorted samples depends on where its position falls, not on the mean.",
        "Find the position of the 99th percentile among 1,000 sorted samples and read the "
        "samples on either side of it.",
    ),
)
