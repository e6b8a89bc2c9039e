"""Checks for ``03_specialize/generative_models.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks and the hints, never
a solution or a hidden test.

Gradients and random draws happen on the learner's side, so the checks send
plain arrays to small drivers here (:func:`probe`, :func:`forward_probe`,
:func:`run_ddpm_loss`) that build the tensors, seed PyTorch when asked (and
restore its state afterwards), call the learner's function and report, as
data, what came back and which gradients flowed. Test models (:class:`NoiseProbe`,
:class:`LinearNoise`) record how they were called. Every expected value is
computed here, independently: with ``torch.distributions``, autograd on a
reference formula, or NumPy.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mlcourse.check import choice, number, problem

HERE = "mlcourse.exercises.generative_models"
SUMMARY = "mlcourse.check.convert:module_summary"
STATE = "mlcourse.check.convert:state_dict"


# -- drivers and test models: course code that runs on the learner's side -------------------


def probe(fn, inputs, dtype="float32", grad=(), weights=(), seed=None) -> dict:
    """Call ``fn`` on tensors made from ``inputs``; report its outputs and the gradients.

    Arrays in ``inputs`` become tensors of ``dtype`` (those at the positions in
    ``grad`` track gradients); plain numbers pass unchanged. With a ``seed``,
    PyTorch's global generator is seeded just before the call (its state is
    restored afterwards). The gradients are those of the sum over outputs k of
    ``(weights[k] * output_k).sum()``.
    """
    state = torch.get_rng_state()
    try:
        args = []
        for i, value in enumerate(inputs):
            if isinstance(value, int | float):
                args.append(value)
                continue
            tensor = torch.tensor(np.asarray(value), dtype=getattr(torch, dtype))
            if i in grad:
                tensor.requires_grad_()
            args.append(tensor)
        if seed is not None:
            torch.manual_seed(seed)
        out = fn(*args)
        outs = list(out) if isinstance(out, tuple) else [out]
        report = {"n": len(outs), "types": [type(o).__name__ for o in outs]}
        if not all(isinstance(o, torch.Tensor) for o in outs):
            return report
        report["values"] = [o.detach().clone() for o in outs]
        report["dtypes"] = [str(o.dtype) for o in outs]
        report["shapes"] = [list(o.shape) for o in outs]
        report["requires_grad"] = [bool(o.requires_grad) for o in outs]
        report["grads"] = [None] * len(args)
        terms = [
            (torch.as_tensor(np.asarray(w), dtype=o.dtype) * o).sum()
            for w, o in zip(weights, outs)
            if o.requires_grad and o.is_floating_point() and np.shape(w) in ((), tuple(o.shape))
        ]
        if terms:
            sum(terms).backward()
            report["grads"] = [
                (a.grad.detach().clone() if a.grad is not None else torch.zeros_like(a))
                if isinstance(a, torch.Tensor) and a.requires_grad
                else None
                for a in args
            ]
        return report
    finally:
        torch.set_rng_state(state)


def forward_probe(net, x, seed: int) -> list:
    """``net(x)`` for float32 images ``x``, with PyTorch seeded (and restored afterwards)."""
    state = torch.get_rng_state()
    try:
        torch.manual_seed(seed)
        out = net(torch.tensor(np.asarray(x), dtype=torch.float32))
        outs = list(out) if isinstance(out, tuple) else [out]
        return [
            o.detach().clone() if isinstance(o, torch.Tensor) else type(o).__name__ for o in outs
        ]
    finally:
        torch.set_rng_state(state)


def reseed(module: nn.Module, seed: int) -> None:
    """Give every parameter of ``module`` seeded random values (scale 0.4)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.4 * torch.randn(p.shape, generator=g, dtype=p.dtype))


class NoiseProbe(nn.Module):
    """A stand-in noise predictor, ``0.5 * x_t + 0.01 * t`` (the 0.5 a parameter).

    It records every call: the noised batch and the levels it was given.
    """

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(0.5))
        self.calls: list[dict] = []

    def forward(self, x_t, t):
        self.calls.append(
            {
                "x": x_t.detach().clone(),
                "t": t.detach().clone() if isinstance(t, torch.Tensor) else t,
                "t_dtype": str(t.dtype) if isinstance(t, torch.Tensor) else type(t).__name__,
            }
        )
        return self.scale * x_t + 0.01 * torch.as_tensor(t).to(x_t.dtype).reshape(-1, 1)


def run_ddpm_loss(fn, x0, alpha_bar, seed: int) -> dict:
    """``fn(model, x0, alpha_bar, generator)`` with a :class:`NoiseProbe` and a seeded generator.

    Reports the loss, the gradient it sends to the probe's parameter, and the
    probe's calls. PyTorch's global generator is given an unpredictable state
    for the call (so that code ignoring ``generator`` is not repeatable), and
    restored afterwards.
    """
    state = torch.get_rng_state()
    torch.seed()  # a fresh, unpredictable global state: only the generator may decide the loss
    try:
        model = NoiseProbe()
        generator = torch.Generator().manual_seed(seed)
        loss = fn(
            model,
            torch.tensor(np.asarray(x0), dtype=torch.float32),
            torch.tensor(np.asarray(alpha_bar), dtype=torch.float64),
            generator,
        )
        report = {"type": type(loss).__name__, "calls": model.calls}
        if isinstance(loss, torch.Tensor):
            report["loss"] = loss.detach().clone()
            report["shape"] = list(loss.shape)
            report["requires_grad"] = bool(loss.requires_grad)
            if loss.requires_grad and loss.numel() == 1:
                loss.backward()
                grad = model.scale.grad
                report["grad"] = None if grad is None else float(grad)
        return report
    finally:
        torch.set_rng_state(state)


def linear_noise_params(dim: int, levels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The weights of :class:`LinearNoise`: a (dim, dim) matrix and one offset per level."""
    r = np.random.default_rng(seed)
    return 0.3 * r.normal(size=(dim, dim)), r.normal(size=(levels, dim))


class LinearNoise(nn.Module):
    """A stand-in noise predictor, ``x @ W.T + c[t]``, that records how it was called."""

    def __init__(self, dim: int, levels: int, seed: int):
        super().__init__()
        weight, offsets = linear_noise_params(dim, levels, seed)
        self.weight = torch.tensor(weight, dtype=torch.float32)
        self.offsets = torch.tensor(offsets, dtype=torch.float32)
        self.calls: list[list] = []

    def forward(self, x, t):
        if isinstance(t, torch.Tensor):
            self.calls.append([len(x), str(t.dtype), list(t.shape), sorted(set(t.tolist()))])
        else:
            self.calls.append([len(x), type(t).__name__, [], [t]])
        return x @ self.weight.T.to(x.dtype) + self.offsets.to(x.dtype)[t]


# -- references, computed on the checks' side -------------------------------------------------


def outputs(t, got: dict, n: int, what: str, case: str | None = None) -> list:
    """The outputs a :func:`probe` report holds, after checking there are ``n`` tensors."""
    types = got.get("types", [])
    t.true(
        got.get("n") == n and "values" in got,
        f"{what} returned {' and '.join(types) or 'nothing'}",
        f"Return {'one tensor' if n == 1 else f'a tuple of {n} tensors'}, computed with PyTorch.",
        case=case,
    )
    return got["values"]


def call_probe(t, name: str, inputs, dtype="float32", grad=(), weights=(), seed=None) -> dict:
    """:func:`probe` of the learner's ``name``, shown in messages as the call it makes."""
    got = t.call(f"{HERE}:probe", t.ref(name), list(inputs), dtype, list(grad), list(weights), seed)
    shown = [
        repr(v) if isinstance(v, int | float) else f"{dtype} tensor {tuple(np.shape(v))}"
        for v in inputs
    ]
    t.called = f"{name}({', '.join(shown)})" + (
        f", PyTorch seeded to {seed}" if seed is not None else ""
    )
    return got


def call_ddpm_loss(t, x0, alpha_bar, seed: int) -> dict:
    """:func:`run_ddpm_loss` of the learner's ddpm_loss, shown in messages as the call it makes."""
    got = t.call(f"{HERE}:run_ddpm_loss", t.ref("ddpm_loss"), x0, alpha_bar, seed)
    t.called = (
        f"ddpm_loss(model, x0 float32 {tuple(np.shape(x0))}, alpha_bar of {len(alpha_bar)} "
        f"levels, a generator seeded {seed})"
    )
    return got


def classifier_reference(probs) -> float:
    from scipy.stats import entropy

    rows = np.array(probs, dtype=float)
    average = rows.mean(axis=0)
    return float(np.exp(np.mean([entropy(row, average) for row in rows])))


def reparam_reference(mu, log_var, weights, seed: int, dtype=torch.float32) -> dict:
    """z = mu + exp(log_var / 2) * eps with a seeded generator's noise, and its gradients."""
    mu, log_var = np.asarray(mu, dtype=float), np.asarray(log_var, dtype=float)
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn(mu.shape, generator=g, dtype=dtype).double().numpy()
    std = np.exp(0.5 * log_var)
    w = np.ones_like(mu) if weights is None else np.asarray(weights, dtype=float)
    return {"z": mu + std * eps, "mu_grad": w, "log_var_grad": w * 0.5 * std * eps, "eps": eps}


def kl_reference(mu, log_var) -> np.ndarray:
    """KL of each row's diagonal Gaussian from N(0, I), with torch.distributions."""
    mu = torch.as_tensor(np.asarray(mu, dtype=float))
    std = torch.exp(0.5 * torch.as_tensor(np.asarray(log_var, dtype=float)))
    q = torch.distributions.Normal(mu, std)
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return torch.distributions.kl_divergence(q, p).sum(dim=-1).numpy()


def kl_gradients(mu, log_var) -> tuple[np.ndarray, np.ndarray]:
    """d KL / d mu and d KL / d log_var, for the sum of all rows' KL."""
    mu, log_var = np.asarray(mu, dtype=float), np.asarray(log_var, dtype=float)
    return mu, 0.5 * (np.exp(log_var) - 1.0)


def elbo_reference(x, logits, mu, log_var, beta: float) -> dict:
    """The batch-mean reconstruction, KL and loss, and the loss's gradients, with autograd."""
    x = torch.as_tensor(np.asarray(x, dtype=float))
    a = torch.tensor(np.asarray(logits, dtype=float), requires_grad=True)
    m = torch.as_tensor(np.asarray(mu, dtype=float))
    lv = torch.tensor(np.asarray(log_var, dtype=float), requires_grad=True)
    recon = -(x * F.logsigmoid(a) + (1 - x) * F.logsigmoid(-a)).sum() / len(x)
    p = torch.distributions.Normal(torch.zeros_like(m), torch.ones_like(m))
    kl = torch.distributions.kl_divergence(torch.distributions.Normal(m, torch.exp(0.5 * lv)), p)
    kl = kl.sum() / len(x)
    loss = recon + beta * kl
    loss.backward()
    return {
        "reconstruction": recon.item(),
        "kl": kl.item(),
        "loss": loss.item(),
        "logits_grad": a.grad.numpy(),
        "log_var_grad": lv.grad.numpy(),
    }


def linear_shapes(summary: dict) -> list[tuple[int, int]]:
    """(in_features, out_features) of every Linear layer, in order."""
    return [
        (layer["in_features"], layer["out_features"])
        for layer in summary["layers"]
        if layer["type"].endswith(".Linear")
    ]


def vae_parameters(latent: int, hidden: int, pixels: int) -> int:
    return (
        (pixels + 1) * hidden
        + (hidden + 1) * 2 * latent
        + (latent + 1) * hidden
        + (hidden + 1) * pixels
    )


def _arrays(state: dict, part: str) -> list[np.ndarray]:
    """The parameters of ``part`` ("encoder" or "decoder"), in the order of its layers."""
    return [np.asarray(v, dtype=float) for k, v in state.items() if k.split(".")[0] == part]


def vae_state(t, net, case: str | None = None) -> dict:
    """The VAE's state_dict, once it is known to hold an encoder and a decoder of two layers."""
    state = t.value(net, convert=STATE)
    t.true(
        all(len(_arrays(state, part)) == 4 for part in ("encoder", "decoder")),
        f"the parameters are named {sorted(state)}",
        "Put the layers in two attributes, self.encoder and self.decoder, each an nn.Sequential "
        "of a Linear, a ReLU and a Linear.",
        case=case,
    )
    return state


def encode_reference(state: dict, x) -> tuple[np.ndarray, np.ndarray]:
    """(mu, log_var) of the task's encoder with the weights of ``state``."""
    w1, b1, w2, b2 = _arrays(state, "encoder")
    out = np.maximum(np.asarray(x, dtype=float) @ w1.T + b1, 0.0) @ w2.T + b2
    half = out.shape[1] // 2
    return out[:, :half], out[:, half:]


def decode_reference(state: dict, z) -> np.ndarray:
    """The task's decoder's logits with the weights of ``state``."""
    w3, b3, w4, b4 = _arrays(state, "decoder")
    return np.maximum(np.asarray(z, dtype=float) @ w3.T + b3, 0.0) @ w4.T + b4


def forward_reference(state: dict, x, seed: int) -> np.ndarray:
    """The logits of the task's forward pass, with the noise PyTorch draws after seeding."""
    mu, log_var = encode_reference(state, x)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(seed)).double().numpy()
    return decode_reference(state, mu + np.exp(0.5 * log_var) * eps)


def gan_reference(real, fake, real_label: float) -> dict:
    """Both GAN losses and their gradients, with PyTorch's cross-entropy and autograd."""
    r = torch.tensor(np.asarray(real, dtype=float), requires_grad=True)
    f = torch.tensor(np.asarray(fake, dtype=float), requires_grad=True)
    d_loss = F.binary_cross_entropy_with_logits(
        r, torch.full_like(r, real_label)
    ) + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
    d_real, d_fake = torch.autograd.grad(d_loss, (r, f))
    f2 = torch.tensor(np.asarray(fake, dtype=float), requires_grad=True)
    g_loss = F.binary_cross_entropy_with_logits(f2, torch.ones_like(f2))
    (g_grad,) = torch.autograd.grad(g_loss, (f2,))
    saturating = -F.softplus(f2.detach()).mean()
    return {
        "d_loss": d_loss.item(),
        "d_real_grad": d_real.numpy(),
        "d_fake_grad": d_fake.numpy(),
        "g_loss": g_loss.item(),
        "g_grad": g_grad.numpy(),
        "saturating": saturating.item(),
    }


def cosine_reference(levels: int, s: float = 0.008, max_beta: float = 0.5):
    """(betas, alpha_bar) of the capped cosine schedule, in NumPy float64."""
    steps = np.arange(levels + 1, dtype=float) / levels
    f = np.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    betas = np.minimum(1 - f[1:] / f[:-1], max_beta)
    return betas, np.cumprod(1 - betas)


def diffuse_reference(x0, levels, noise, alpha_bar) -> np.ndarray:
    a = np.asarray(alpha_bar, dtype=float)[np.asarray(levels)][:, None]
    return np.sqrt(a) * np.asarray(x0, dtype=float) + np.sqrt(1 - a) * np.asarray(
        noise, dtype=float
    )


def step_reference(
    params, x, level: int, betas, alpha_bar, noise, use_alpha_bar: bool = False
) -> np.ndarray:
    """One reverse step with :class:`LinearNoise`'s weights, in float64.

    ``use_alpha_bar`` divides by the square root of alpha_bar instead of alpha
    (a known mistake).
    """
    weight, offsets = params
    x = np.asarray(x, dtype=float)
    eps = x @ weight.T + offsets[level]
    beta, a_bar = float(betas[level]), float(alpha_bar[level])
    shrink = math.sqrt(a_bar) if use_alpha_bar else math.sqrt(1 - beta)
    mean = (x - beta / math.sqrt(1 - a_bar) * eps) / shrink
    return mean if level == 0 else mean + math.sqrt(beta) * np.asarray(noise, dtype=float)


def ddpm_loss_checks(t, got: dict, x0, alpha_bar, case: str | None = None) -> None:
    """Judge one :func:`run_ddpm_loss` report from what the probe model saw."""
    x0 = np.asarray(x0, dtype=float)
    alpha_bar = np.asarray(alpha_bar, dtype=float)
    n, levels = len(x0), len(alpha_bar)
    calls = got["calls"]
    t.true(
        len(calls) == 1,
        f"the model was called {len(calls)} times",
        "Call the model once, on the whole noised batch.",
        case=case,
    )
    seen = calls[0]["t"]
    t.true(
        calls[0]["t_dtype"] == "torch.int64" and np.shape(seen) == (n,),
        f"the model was given levels of type {calls[0]['t_dtype']} and shape {np.shape(seen)}",
        "Draw one level per image: an int64 tensor of shape (B,), from torch.randint.",
        case=case,
    )
    seen = np.asarray(seen)
    t.true(
        len(np.unique(seen)) > 1,
        f"every image got the same level, {seen[0]}",
        "Draw one level per image, not one for the whole batch.",
        case=case,
    )
    t.true(
        seen.min() == 0 and seen.max() == levels - 1,
        f"the levels drawn run from {seen.min()} to {seen.max()} for a schedule of {levels} levels",
        "Draw the levels from 0 to T - 1 inclusive: torch.randint's upper bound is excluded.",
        case=case,
    )
    counts = np.bincount(seen, minlength=levels)
    t.true(
        counts.min() > 0.5 * n / levels,
        f"some levels were drawn far less often than others ({counts.min()} to {counts.max()} "
        f"times each)",
        "Draw the levels uniformly: every level equally likely.",
        case=case,
    )
    x_t = np.asarray(calls[0]["x"], dtype=float)
    t.true(
        x_t.shape == x0.shape,
        f"the model was given a noised batch of shape {x_t.shape}",
        "Noise the whole batch: x_t has the shape of x0.",
        case=case,
    )
    a = alpha_bar[seen][:, None]
    noise = (x_t - np.sqrt(a) * x0) / np.sqrt(1 - a)
    t.true(
        abs(noise.mean()) < 0.05 and abs(noise.std() - 1) < 0.05,
        f"the noise inside x_t has mean {noise.mean():.3f} and standard deviation "
        f"{noise.std():.3f}",
        "x_t must be your diffuse of x0 at the drawn levels with standard normal noise "
        "(torch.randn).",
        case=case,
    )
    t.true(
        got.get("type") == "Tensor" and got.get("shape") == [] and got.get("requires_grad") is True,
        f"the loss is a {got.get('type')} of shape {got.get('shape')}",
        "Return one 0-dimensional tensor that keeps its gradient (no .item()).",
        case=case,
    )
    predicted = 0.5 * x_t + 0.01 * seen[:, None]
    t.close(
        float(got["loss"]),
        float(np.mean((predicted - noise) ** 2)),
        rtol=1e-4,
        what="the loss",
        nudge="The target is the noise itself, and the loss the mean over every entry.",
        case=case,
    )
    t.close(
        got.get("grad"),
        float(np.mean(2 * (predicted - noise) * x_t)),
        rtol=1e-3,
        what="the gradient reaching the model",
        case=case,
    )


# -- exercise 1 ---------------------------------------------------------------------------


@problem(
    "classifier_score",
    hints=(
        "A good set of samples gets confident predictions one by one, yet uses every class "
        "across the set: the score compares each prediction with the average prediction.",
        "Average the rows to get the marginal distribution. For each row, add up its entries "
        "times the log of their ratio to the marginal, skipping zero entries. Average those "
        "divergences over the rows and exponentiate.",
        "Taking the log of a zero gives minus infinity, and zero times that is not a number: "
        "replace the zeros by ones before the log (their terms vanish anyway). Return a plain "
        "Python float.",
    ),
)
def _classifier_score(t):
    certain = t.call("classifier_score", np.array([[1.0, 0.0], [0.0, 1.0]]))
    t.true(
        type(certain) is float,
        f"the score is a {type(certain).__name__}",
        "Return a Python float (float(...)), not a NumPy scalar or an array.",
    )
    t.close(
        certain,
        2.0,
        what="the score of two certain, different predictions",
        wrong={"That is the mean divergence itself: the score is its exponential.": math.log(2)},
        nudge="Certain predictions (entries of exactly 0 and 1) must not give NaN: 0 log 0 is 0.",
    )
    t.close(
        t.call("classifier_score", np.array([[0.5, 0.5], [0.5, 0.5]])),
        1.0,
        what="the score of two shrugs",
        wrong={
            "You measured only the diversity of the average prediction; a shrug is not a "
            "confident sample, so the score must be 1.": 2.0
        },
    )
    zeros = np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.0]])
    t.close(
        t.call("classifier_score", zeros),
        classifier_reference(zeros),
        case="three classes, the last never predicted",
        nudge="A class with zero probability in every row must not make the score NaN.",
    )
    t.raises(
        ValueError,
        "classifier_score",
        np.zeros((0, 3)),
        nudge="An array with no rows has no score: raise a ValueError.",
    )


# -- exercises 2 to 5: the VAE -----------------------------------------------------------------


@problem(
    "reparameterize",
    hints=(
        "Sampling is not differentiable, but shifting and scaling a fixed standard normal "
        "draw is: the randomness becomes an input, and the mean and spread stay ordinary "
        "numbers on the path to the output.",
        "Turn the log-variance into a standard deviation (the exponential of half of it), "
        "draw standard normal noise shaped like the mean, and return the mean plus the "
        "standard deviation times the noise.",
        "The noise must come from one call of the random-like function on the mean, so that a "
        "seed reproduces it. Stay in PyTorch throughout.",
    ),
)
def _reparameterize(t):
    mu = np.array([[0.0, 1.0], [2.0, -1.0]])
    log_var = np.array([[0.0, 2.0], [-2.0, 0.0]])
    weights = np.array([[1.0, 2.0], [-1.0, 0.5]])
    got = call_probe(t, "reparameterize", [mu, log_var], "float32", [0, 1], [weights], 0)
    (z,) = outputs(t, got, 1, "reparameterize")
    t.shape(z, (2, 2), nudge="z has the shape of mu.")
    want = reparam_reference(mu, log_var, weights, 0)
    eps = want["eps"]
    t.close(
        z,
        want["z"],
        rtol=1e-5,
        atol=1e-6,
        what="z (with PyTorch seeded to 0)",
        wrong={
            "You scaled the noise by the variance: the standard deviation is the exponential "
            "of HALF the log-variance.": mu + np.exp(log_var) * eps,
            "You scaled the noise by the log-variance itself: take exp(log_var / 2).": mu
            + log_var * eps,
        },
        nudge="Draw the noise with one call of torch.randn_like(mu), after nothing else random.",
    )
    t.true(
        got["requires_grad"][0],
        "z does not track gradients",
        "Compute z with PyTorch operations on mu and log_var, without .detach().",
    )
    t.close(
        got["grads"][0],
        want["mu_grad"],
        rtol=1e-5,
        what="d z / d mu",
        nudge="The gradient must reach mu: torch.normal(mu, std) and .detach() block it.",
    )
    t.close(
        got["grads"][1],
        want["log_var_grad"],
        rtol=1e-5,
        atol=1e-6,
        what="d z / d log_var",
        nudge="The gradient must reach log_var through the standard deviation.",
    )


@problem(
    "kl_to_standard_normal",
    hints=(
        "Two Gaussians have a divergence in closed form; with a diagonal covariance the "
        "dimensions are independent, so their divergences add up.",
        "For each dimension: the squared mean, plus the variance, minus one, minus the "
        "log-variance; sum that over the latent dimensions and halve it. One number per row.",
        "The variance is the exponential of the log-variance. Sum over the last axis only, so "
        "that each example keeps its own value.",
    ),
)
def _kl_to_standard_normal(t):
    mu = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 2.0]])
    log_var = np.array([[0.0, 0.0], [0.0, math.log(2.0)], [1.0, -1.0]])
    got = call_probe(
        t,
        "kl_to_standard_normal",
        [mu, log_var],
        "float64",
        [0, 1],
        [np.ones(3)],
    )
    (kl,) = outputs(t, got, 1, "kl_to_standard_normal")
    t.shape(kl, (3,), nudge="One KL per example: sum over the latent axis only.")
    want = kl_reference(mu, log_var)
    t.close(
        kl,
        want,
        what="the KL of each row",
        wrong={
            "Twice too large: the closed form has a factor one half.": 2 * want,
            "You averaged over the latent dimensions: the KL of independent dimensions is "
            "their SUM.": want / 2,
        },
        nudge="The first row is the prior itself (KL 0); check each term's sign.",
    )
    t.true(
        got["dtypes"][0] == "torch.float64", "float64 inputs gave another dtype", "Stay in PyTorch."
    )
    mu_grad, log_var_grad = kl_gradients(mu, log_var)
    t.close(got["grads"][0], mu_grad, what="d KL / d mu", nudge="Keep the gradient: no .detach().")
    t.close(got["grads"][1], log_var_grad, what="d KL / d log_var")


@problem(
    "vae_loss",
    hints=(
        "The negative ELBO of one image is its reconstruction error in nats plus the KL "
        "of its code distribution from the prior; a batch's loss averages those over the "
        "images.",
        "Take the per-pixel binary cross-entropy from the logits without any reduction, sum "
        "it over the pixels of each image and average over the batch; average your KL over "
        "the batch; weight the KL by beta in the total.",
        "The library's cross-entropy averages over every entry unless told otherwise: ask it "
        "for no reduction. Return the three results as one tuple of tensors.",
    ),
)
def _vae_loss(t):
    x = np.array([[0.0, 1.0, 0.5, 0.25], [1.0, 1.0, 0.0, 0.0]])
    logits = np.array([[-2.0, 3.0, 0.0, 1.0], [0.5, 2.0, -1.0, -4.0]])
    mu = np.array([[0.5, -0.5], [0.0, 1.0]])
    log_var = np.array([[0.0, -1.0], [0.5, 0.0]])
    want = elbo_reference(x, logits, mu, log_var, 2.0)
    got = call_probe(
        t,
        "vae_loss",
        [x, logits, mu, log_var, 2.0],
        "float64",
        [1, 2, 3],
        [1.0, 0.0, 0.0],
    )
    loss, recon, kl = outputs(t, got, 3, "vae_loss")
    t.true(
        got["shapes"] == [[], [], []],
        f"vae_loss returned tensors of shapes {got['shapes']}",
        "Each of the three results is one number: a 0-dimensional tensor (a batch mean).",
    )
    t.close(
        recon,
        want["reconstruction"],
        what="the reconstruction term",
        wrong={
            "That is the mean over pixels too: sum over the 4 pixels of each image, then "
            "average over the batch.": want["reconstruction"] / 4,
            "That is the sum over the batch: average over the 2 images.": 2
            * want["reconstruction"],
        },
        nudge="Pass the logits themselves to the cross-entropy, not their sigmoid.",
    )
    t.close(kl, want["kl"], what="the KL term", nudge="Average your per-example KL over the batch.")
    t.close(
        loss,
        want["loss"],
        what="the loss with beta = 2",
        wrong={"The loss ignores beta: weight the KL by it.": want["reconstruction"] + want["kl"]},
    )
    t.close(
        got["grads"][1],
        want["logits_grad"],
        what="d loss / d logits",
        nudge="The loss must keep its gradients: no .item() or .detach() inside.",
    )


@problem(
    "VAE",
    hints=(
        "One encoder network proposes each image's code distribution, both its mean and "
        "its log-variance; the decoder maps a code back to one logit per pixel.",
        "The encoder ends in twice the latent size; split its output in two along the last "
        "axis, the mean first. The forward pass encodes, samples a code with your "
        "reparameterisation, and decodes it, returning the logits with the mean and the "
        "log-variance.",
        "Build both halves as sequential containers of a linear layer, a ReLU and a linear "
        "layer; no activation after the last layer of either.",
    ),
)
def _vae(t):
    net = t.named(t.call("VAE", 2, 8, 6, keep=True), "net")
    summary = t.value(net, convert=SUMMARY)
    t.equal(
        linear_shapes(summary),
        [(6, 8), (8, 4), (2, 8), (8, 6)],
        what="the linear layers of VAE(2, 8, 6), as (in, out)",
        nudge="Encoder: pixels to hidden, hidden to 2 x latent. Decoder: latent to hidden, "
        "hidden to pixels.",
    )
    t.equal(summary["parameters"], vae_parameters(2, 8, 6), what="the number of parameters")
    t.call(f"{HERE}:reseed", net, 3)
    state = vae_state(t, net)
    x = np.random.default_rng(2).random((3, 6)).astype(np.float32)
    got = t.call(net.encode, torch.tensor(x))
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"encode returned {type(got).__name__}",
        "encode returns the pair (mu, log_var).",
    )
    want_mu, want_log_var = encode_reference(state, x)
    t.shape(got[0], (3, 2), nudge="mu has one row per image and latent_dim columns.")
    t.close(
        got[0],
        want_mu,
        rtol=1e-4,
        atol=1e-5,
        what="mu",
        wrong={"You swapped the halves: mu is the FIRST latent_dim outputs.": want_log_var},
        nudge="A ReLU between the encoder's two linear layers, and nothing after the last.",
    )
    t.close(got[1], want_log_var, rtol=1e-4, atol=1e-5, what="log_var")
    z = np.array([[0.5, -1.0], [2.0, 0.0]], dtype=np.float32)
    want_logits = decode_reference(state, z)
    t.close(
        t.call(net.decode, torch.tensor(z)),
        want_logits,
        rtol=1e-4,
        atol=1e-5,
        what="decode(z)",
        wrong={
            "decode returns probabilities: return the logits (the loss applies the sigmoid).": 1
            / (1 + np.exp(-want_logits))
        },
    )
    out = t.call(f"{HERE}:forward_probe", net, x, 1)
    t.true(
        len(out) == 3 and not isinstance(out[0], str),
        f"forward returned {len(out)} results",
        "forward returns (logits, mu, log_var).",
    )
    mu_logits = decode_reference(state, want_mu)
    t.close(
        out[0],
        forward_reference(state, x, 1),
        rtol=1e-4,
        atol=1e-5,
        what="the logits of forward(x), PyTorch seeded to 1",
        wrong={"forward decodes mu itself: sample z with your reparameterize first.": mu_logits},
        nudge="Encode, reparameterise, decode: nothing else random in between.",
    )


# -- exercise 6: the GAN ----------------------------------------------------------------------


@problem(
    "gan_losses",
    hints=(
        "Both players are scored by binary cross-entropy: the discriminator wants real "
        "images called real and fakes called fake; the generator wants its fakes called "
        "real, which keeps a strong gradient when the fakes are bad.",
        "With a logit l and a target y, the cross-entropy is the softplus of l minus y times "
        "l. The discriminator averages it over the real logits with the target real_label, "
        "adds the average over the fake logits with the target zero. The generator averages "
        "the softplus of minus each fake logit.",
    ),
)
def _gan_losses(t):
    real, fake = np.array([2.0, -1.0, 0.5]), np.array([-3.0, 1.0])
    want = gan_reference(real, fake, 1.0)
    smooth = gan_reference(real, fake, 0.9)
    got = call_probe(t, "discriminator_loss", [real, fake], "float64", [0, 1], [1.0])
    (d_loss,) = outputs(t, got, 1, "discriminator_loss")
    t.close(
        d_loss,
        want["d_loss"],
        what="discriminator_loss(real, fake)",
        nudge="Each half is a mean over its own logits; add the two means.",
    )
    got = call_probe(t, "discriminator_loss", [real, fake, 0.9], "float64", [0, 1], [1.0])
    (d_smooth,) = outputs(t, got, 1, "discriminator_loss")
    t.close(
        d_smooth,
        smooth["d_loss"],
        what="discriminator_loss(real, fake, real_label=0.9)",
        wrong={"real_label is ignored: it is the target of the real logits.": want["d_loss"]},
        nudge="Only the real side is smoothed: the fakes' target stays 0.",
    )
    t.close(got["grads"][0], smooth["d_real_grad"], what="its gradient w.r.t. the real logits")
    got = call_probe(t, "generator_loss", [fake], "float64", [0], [1.0])
    (g_loss,) = outputs(t, got, 1, "generator_loss")
    t.close(
        g_loss,
        want["g_loss"],
        what="generator_loss(fake)",
        wrong={
            "That is the saturating loss, log(1 - D): minimise -log D(G(z)) instead.": want[
                "saturating"
            ]
        },
    )
    got = call_probe(t, "generator_loss", [np.array([-10.0, -200.0])], "float32", [0], [1.0])
    (g_far,) = outputs(t, got, 1, "generator_loss")
    far = gan_reference(np.zeros(1), np.array([-10.0, -200.0]), 1.0)
    t.close(
        g_far,
        far["g_loss"],
        rtol=1e-5,
        what="generator_loss of fakes rejected with logits -10 and -200",
        nudge="Use softplus, which stays finite where log(sigmoid(l)) overflows.",
    )
    t.close(
        got["grads"][0],
        far["g_grad"],
        rtol=1e-4,
        what="its gradient (about -1/2 for each: the non-saturating loss keeps it)",
    )


# -- exercises 7 to 9: diffusion ---------------------------------------------------------------


@problem(
    "diffuse",
    hints=(
        "The noised image mixes the clean image and the noise, with weights whose squares "
        "add up to one; each image in the batch sits at its own level.",
        "Look up the cumulative product at each image's level, turn it into a column so it "
        "multiplies every pixel of its row, and add its square root times the image to the "
        "square root of one minus it times the noise.",
        "The schedule may be float64 while the images are float32: convert the looked-up "
        "values to the images' dtype before mixing.",
    ),
)
def _diffuse(t):
    _, schedule = cosine_reference(10)
    x0 = np.array([[1.0, -1.0], [0.5, 0.5], [-1.0, 1.0]])
    noise = np.array([[0.3, -0.2], [1.0, 2.0], [-0.5, 0.1]])
    levels = np.array([0, 4, 9])
    got = t.call(
        "diffuse",
        torch.tensor(x0, dtype=torch.float32),
        torch.tensor(levels),
        torch.tensor(noise, dtype=torch.float32),
        torch.tensor(schedule),
    )
    t.shape(got, (3, 2), nudge="x_t has the shape of x0: one row per image.")
    a = schedule[levels][:, None]
    t.close(
        got,
        diffuse_reference(x0, levels, noise, schedule),
        rtol=1e-5,
        atol=1e-6,
        what="x_t at levels 0, 4 and 9 of 10",
        wrong={
            "The weights are the SQUARE ROOTS of alpha_bar and of 1 - alpha_bar.": a * x0
            + (1 - a) * noise,
        },
        nudge="Row i uses alpha_bar at its own level t[i].",
    )
    t.true(
        getattr(got, "torch_dtype", "") == "torch.float32",
        f"float32 images with a float64 schedule gave {getattr(got, 'torch_dtype', None)}",
        "Return x0's dtype: convert the schedule's values to it.",
    )


@problem(
    "ddpm_loss",
    hints=(
        "Each image gets its own random noise level and its own standard normal noise; the "
        "network sees the noised image and its level, and is scored on how well it names "
        "the noise.",
        "Draw the levels uniformly from the whole schedule, one per image, then the noise, "
        "both from the given generator; noise the batch with your diffuse; return the mean "
        "squared error between the model's output and the noise.",
        "The random integer function excludes its upper bound, so the schedule's length is "
        "the right one to pass.",
    ),
)
def _ddpm_loss(t):
    _, schedule = cosine_reference(5)
    x0 = np.random.default_rng(3).normal(size=(3000, 2)).astype(np.float32)
    got = call_ddpm_loss(t, x0, schedule, 0)
    ddpm_loss_checks(t, got, x0, schedule)
    again = call_ddpm_loss(t, x0, schedule, 0)
    t.true(
        float(again["loss"]) == float(got["loss"]),
        "two generators with the same seed gave different losses",
        "Draw every random number from the generator argument.",
    )


@problem(
    "ddpm_step",
    hints=(
        "One reverse step removes the share of noise the network predicts, undoes the "
        "forward step's shrinking, and adds back a little fresh noise, except at the very "
        "last step.",
        "Ask the model for its noise estimate at this level; subtract beta over the square "
        "root of one minus alpha_bar times it from x_t, divide by the square root of alpha "
        "(one minus beta); add the square root of beta times the given noise unless the "
        "level is zero.",
        "Alpha here is one minus beta at this level, not the cumulative product. Taking the "
        "schedule's numbers out as Python floats keeps the batch's dtype.",
    ),
)
def _ddpm_step(t):
    sched_betas, schedule = cosine_reference(10)
    x = np.array([[0.5, -1.0, 0.2], [1.5, 0.0, -0.3]], dtype=np.float32)
    z = np.array([[0.1, 0.2, -0.3], [-1.0, 0.5, 0.0]], dtype=np.float32)
    params = linear_noise_params(3, 10, 0)
    for level in (3, 0):
        model = t.build(f"{HERE}:LinearNoise", 3, 10, 0, label="model")
        got = t.call(
            "ddpm_step",
            model,
            torch.tensor(x),
            level,
            torch.tensor(sched_betas),
            torch.tensor(schedule),
            torch.tensor(z),
        )
        t.shape(got, (2, 3), nudge="x_(t-1) has the shape of x_t.")
        want = step_reference(params, x, level, sched_betas, schedule, z)
        noise_part = math.sqrt(float(sched_betas[level])) * z
        cumulative = step_reference(params, x, level, sched_betas, schedule, z, use_alpha_bar=True)
        wrong = {"Alpha is one minus beta at this level, not the cumulative alpha_bar.": cumulative}
        if level == 0:
            wrong["No noise at level 0: the last step returns the mean."] = want + noise_part
        else:
            wrong["Add the fresh noise at every level but 0."] = want - noise_part
            wrong["The fresh noise is scaled by the square root of beta, a standard deviation."] = (
                want - noise_part + float(sched_betas[level]) * z
            )
        t.close(
            got,
            want,
            rtol=1e-5,
            atol=1e-6,
            what=f"x_(t-1) from level {level} of 10",
            wrong=wrong,
        )
        t.equal(
            t.value(model.calls),
            [[2, "torch.int64", [2], [level]]],
            what="how the model was called: [batch, levels' dtype, levels' shape, level values]",
            nudge="Call the model once, with an int64 tensor of shape (B,) filled with t.",
        )
    t.true(
        getattr(got, "torch_dtype", "") == "torch.float32",
        f"a float32 batch with a float64 schedule gave {getattr(got, 'torch_dtype', None)}",
        "Keep x_t's dtype: take the schedule's values out as Python floats (.item()).",
    )


# -- the quiz ---------------------------------------------------------------------------------

number(
    "q_signal_coef",
    hints=(
        "alpha_bar is the share of the signal's variance that survives.",
        "A coefficient scales a standard deviation: take the square root of the variance share.",
    ),
)
number(
    "q_kl_one_dim",
    hints=(
        "A log-variance of zero means a variance of one, like the prior's.",
        "Plug the mean and the variance into the closed form, with its factor one half.",
    ),
)
number(
    "q_elbo_bound",
    hints=(
        "The two reported terms are the two parts of the negative ELBO.",
        "The ELBO is minus their sum, and the log-likelihood is at least the ELBO.",
    ),
)
choice(
    "q_gan_collapse",
    options="abcd",
    hints=(
        "Sharp samples but few kinds of them is a well-known failure with a name.",
        "Ask which measurement would show the problem, and whether the losses could.",
    ),
)
choice(
    "q_non_saturating",
    options="abcd",
    hints=(
        "Think about the slope of each loss where the discriminator rejects a fake with "
        "confidence.",
        "The slope of the log of one minus a sigmoid is minus the sigmoid itself.",
    ),
)
choice(
    "q_memorise",
    options="abcd",
    hints=(
        "A training image is as real as an image gets, for the judge.",
        "Which of the three numbers compares samples with the training set itself?",
    ),
)
