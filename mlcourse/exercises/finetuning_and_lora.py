"""Checks for ``03_specialize/finetuning_and_lora.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks and the hints, never
a solution or a hidden test.

Expected values are computed here from the weights the learner's objects
hold (read back as data), from Hugging Face's schedule and GPT-2 model, or
from small cases worked out by hand. The layers, models and batches the
learner's code runs on are built on the learner's side by the factories
below, with seeded weights, so both sides know them exactly.
"""

from __future__ import annotations

import math  # noqa: F401 - the hidden tests use it (they run in this module's namespace)

import numpy as np
import torch
from torch import nn

from mlcourse.check import choice, number, problem

HERE = "mlcourse.exercises.finetuning_and_lora"
STATE = "mlcourse.check.convert:state_dict"
SUMMARY = "mlcourse.check.convert:module_summary"


# -- factories: course code that runs on the learner's side ----------------------------------


def _generator(seed: int) -> torch.Generator:
    gen = torch.Generator()
    gen.manual_seed(int(seed))
    return gen


def linear(n_in: int, n_out: int, seed: int, dtype: str = "float32", bias: bool = True):
    """An ``nn.Linear`` with seeded weights (of ``dtype``)."""
    layer = nn.Linear(n_in, n_out, bias=bias, dtype=getattr(torch, dtype))
    gen = _generator(seed)
    with torch.no_grad():
        for weight in layer.parameters():
            weight.copy_(torch.randn(weight.shape, generator=gen, dtype=weight.dtype))
    return layer


def fill(module: nn.Module, name: str, seed: int) -> None:
    """Give the parameter ``name`` of ``module`` seeded random values (in place)."""
    weight = module.get_parameter(name)
    with torch.no_grad():
        weight.copy_(torch.randn(weight.shape, generator=_generator(seed), dtype=weight.dtype))


def tensor(data, dtype: str = "float32") -> torch.Tensor:
    return torch.tensor(np.asarray(data), dtype=getattr(torch, dtype))


def grads_after_step(layer: nn.Module, x) -> dict:
    """Backpropagate the sum of ``layer(x)``: which parameters received a gradient, and its norm."""
    layer.zero_grad()
    layer(torch.as_tensor(x)).sum().backward()
    return {
        name: (None if p.grad is None else float(p.grad.abs().sum()))
        for name, p in layer.named_parameters()
    }


class Block(nn.Module):
    """One block of :class:`TinyNet`: linear layers named q, v, qv_mix and ffn.0, ffn.2."""

    def __init__(self, d: int):
        super().__init__()
        self.q = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.qv_mix = nn.Linear(d, d)
        self.ffn = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        h = torch.tanh(self.q(x)) * self.v(x) + self.qv_mix(x)
        return self.norm(x + self.ffn(h))


class TinyNet(nn.Module):
    """A small model whose layer names test :func:`add_lora`'s matching.

    Two blocks of width 6, then a head ``out`` (6 -> 3); the second block's
    ``v`` is a LayerNorm, not a linear layer.
    """

    def __init__(self, seed: int = 0, d: int = 6):
        super().__init__()
        self.blocks = nn.ModuleList([Block(d), Block(d)])
        self.blocks[1].v = nn.Identity()
        self.out = nn.Linear(d, 3)
        gen = _generator(seed)
        with torch.no_grad():
            for weight in self.parameters():
                weight.copy_(0.5 * torch.randn(weight.shape, generator=gen))

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.out(x)


def tiny_net(seed: int = 0) -> TinyNet:
    return TinyNet(seed)


def lora_layers(model: nn.Module) -> dict:
    """For every submodule that holds both ``A`` and ``B`` parameters: their shapes."""
    found = {}
    for path, sub in model.named_modules():
        own = dict(sub.named_parameters(recurse=False))
        if "A" in own and "B" in own:
            found[path] = {"A": list(own["A"].shape), "B": list(own["B"].shape)}
    return found


def tiny_gpt(seed: int = 0, dropout: float = 0.3, train: bool = True):
    """A small random GPT-2 (vocabulary 50, width 16, 2 layers), with dropout, in training mode."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=50,
        n_positions=32,
        n_embd=16,
        n_layer=2,
        n_head=2,
        resid_pdrop=dropout,
        embd_pdrop=dropout,
        attn_pdrop=dropout,
        bos_token_id=0,
        eos_token_id=0,
    )
    model = GPT2LMHeadModel(config)
    with torch.no_grad():
        for weight in model.parameters():
            weight.mul_(4.0)  # sharper next-token distributions than the tiny default init
    model.train(train)
    return model


def training_flag(model: nn.Module) -> bool:
    return bool(model.training)


# -- references, on the checks' side -----------------------------------------------------------


def linear_state(n_in: int, n_out: int, seed: int, dtype: str = "float64") -> dict:
    layer = linear(n_in, n_out, seed, dtype)
    return {k: v.detach().numpy() for k, v in layer.state_dict().items()}


def seeded(shape, seed: int, dtype: str = "float64") -> np.ndarray:
    return torch.randn(
        tuple(shape), generator=_generator(seed), dtype=getattr(torch, dtype)
    ).numpy()


def hf_cosine(step: int, total: int, warmup: int, peak: float) -> float:
    """Hugging Face's ``get_cosine_schedule_with_warmup`` learning rate at ``step``."""
    from transformers import get_cosine_schedule_with_warmup

    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=peak)
    sched = get_cosine_schedule_with_warmup(opt, warmup, total)
    return float(peak * sched.lr_lambdas[0](step))


def reference_logprob(seed: int, prompt, answer) -> float:
    """log p(answer | prompt) under :func:`tiny_gpt` ``(seed)``, dropout off, in float64."""
    reference = tiny_gpt(seed, 0.0, False)
    sequence = torch.tensor([[*prompt, *answer]])
    with torch.inference_mode():
        logp = torch.log_softmax(reference(sequence).logits[0].double(), -1)
    return float(sum(logp[len(prompt) - 1 + i, a] for i, a in enumerate(answer)))


# -- 2. LoRA -------------------------------------------------------------------------------------


@problem(
    "LoRALinear",
    hints=(
        "The pretrained layer stays exactly as it is and stops learning; beside it sit two "
        "thin matrices whose product is the change, and one of them starts at zero so the "
        "wrapped layer begins as the original.",
        "In the constructor: refuse anything that is not a linear layer and a rank below one; "
        "keep the layer as self.base and switch off the gradient of all its parameters; make "
        "A (rank by inputs, seeded normal values divided by the square root of the inputs) "
        "and B (outputs by rank, zeros) as parameters in the base weight's dtype; store alpha "
        "over the rank. In forward: the base output plus the scale times x through A "
        "transposed, then B transposed.",
        "A torch.Generator with manual_seed gives the seeded draw; pass it, the dtype and the "
        "shape to torch.randn. requires_grad_(False) freezes a parameter.",
    ),
)
def _lora_linear(t):
    base = t.build(f"{HERE}:linear", 5, 3, 1, label="nn.Linear(5, 3)")
    layer = t.call("LoRALinear", base, 2, 4, 0, keep=True)
    summary = t.value(layer, convert=SUMMARY)
    t.equal(
        summary["trainable"],
        2 * (5 + 3),
        what="the number of trainable parameters",
        nudge="Only A (2 x 5) and B (3 x 2) learn: 16 numbers. Freeze the base layer's "
        "weight and bias.",
        wrong={"The base layer is still trainable: freeze its parameters.": 16 + 18},
    )
    state = t.value(layer, convert=STATE)
    t.true(
        {"base.weight", "base.bias", "A", "B"} <= set(state),
        f"the layer holds {sorted(state)}",
        "Keep the linear layer as self.base and the two matrices as self.A and self.B.",
    )
    t.equal(list(np.shape(state["A"])), [2, 5], what="A's shape", nudge="A is (r, in_features).")
    t.equal(list(np.shape(state["B"])), [3, 2], what="B's shape", nudge="B is (out_features, r).")
    t.close(
        state["B"],
        np.zeros((3, 2)),
        what="B at the start",
        nudge="B starts at zero, so the wrapped layer starts as the original.",
    )
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    w, b = state["base.weight"], state["base.bias"]
    t.close(
        t.call(layer, tensor(x)),
        x @ w.T + b,
        rtol=1e-5,
        atol=1e-5,
        what="the output at the start",
        nudge="With B = 0 the output is the base layer's.",
    )
    t.call(f"{HERE}:fill", layer, "B", 7, may_modify=True)
    B = seeded((3, 2), 7, "float32")
    A = state["A"]
    t.close(
        t.call(layer, tensor(x)),
        x @ w.T + b + 2.0 * (x @ A.T) @ B.T,
        rtol=1e-4,
        atol=1e-4,
        what="the output once B is not zero",
        nudge="Add scale * (x @ A.T) @ B.T, with scale = alpha / r = 4 / 2.",
        wrong={"Multiply the low-rank part by alpha / r.": x @ w.T + b + (x @ A.T) @ B.T},
    )
    t.raises(
        ValueError,
        "LoRALinear",
        base,
        0,
        4,
        0,
        nudge="A rank of 0 has no update: raise a ValueError.",
    )


@problem(
    "merge_lora",
    hints=(
        "After training, the low-rank change can be added into the big weight once, so the "
        "served model is a plain linear layer with no extra work per input.",
        "Make a new linear layer of the same sizes, dtype and bias; copy into its weight the "
        "base weight plus the scale times B times A, and copy the bias, without touching the "
        "wrapped layer.",
        "Do the copies under torch.no_grad(); B @ A has the weight's shape, out by in.",
    ),
)
def _merge_lora(t):
    base = t.build(f"{HERE}:linear", 4, 3, 2, label="nn.Linear(4, 3)")
    layer = t.call("LoRALinear", base, 2, 6, 0, keep=True)
    t.call(f"{HERE}:fill", layer, "B", 3, may_modify=True)
    before = t.value(layer, convert=STATE)
    merged = t.call("merge_lora", layer, keep=True)
    t.instance(merged, "torch.nn:Linear", nudge="Return a plain nn.Linear.")
    got = t.value(merged, convert=STATE)
    want = before["base.weight"] + 3.0 * before["B"] @ before["A"]
    t.close(
        got.get("weight"),
        want,
        rtol=1e-5,
        atol=1e-5,
        what="the merged weight",
        nudge="W + (alpha / r) * B @ A, with alpha / r = 6 / 2.",
        wrong={
            "Scale the low-rank product by alpha / r.": before["base.weight"]
            + before["B"] @ before["A"]
        },
    )
    t.close(got.get("bias"), before["base.bias"], what="the merged bias", nudge="Copy the bias.")
    after = t.value(layer, convert=STATE)
    t.close(
        after["base.weight"],
        before["base.weight"],
        what="the wrapped layer's base weight",
        nudge="Build a new layer: the LoRA layer must stay as it was.",
    )


@problem(
    "add_lora",
    hints=(
        "Walk the model's named layers; the ones to adapt are linear layers whose own name, "
        "the last part of the dotted path, is one of the targets; everything else is frozen.",
        "Freeze every parameter first. Collect the matching layers into a list before changing "
        "anything; then, for the k-th one, find its parent module and put a LoRALinear around "
        "it there, with the seed plus k. Return the names in order.",
        "rpartition on the dot splits a name into the parent's path and the child's name; "
        "get_submodule finds the parent, setattr replaces the child.",
    ),
)
def _add_lora(t):
    model = t.build(f"{HERE}:tiny_net", 0, label="TinyNet()")
    names = t.call("add_lora", model, ("q", "v"), 2, 4, 0)
    t.equal(
        names,
        ["blocks.0.q", "blocks.0.v", "blocks.1.q"],
        nudge="blocks.1.v is not a linear layer, and blocks.0.qv_mix only contains 'q'.",
        wrong={
            "Match the layer's own name exactly, not a part of it.": [
                "blocks.0.q",
                "blocks.0.v",
                "blocks.0.qv_mix",
                "blocks.1.q",
                "blocks.1.qv_mix",
            ],
            "Only linear layers can be wrapped.": [
                "blocks.0.q",
                "blocks.0.v",
                "blocks.1.q",
                "blocks.1.v",
            ],
        },
    )
    summary = t.value(model, convert=SUMMARY)
    t.equal(
        summary["trainable"],
        3 * 2 * (6 + 6),
        what="the number of trainable parameters",
        nudge="Three adapted 6 x 6 layers with r = 2: 3 * 2 * (6 + 6) = 72. Freeze the rest.",
    )
    t.equal(
        t.call(f"{HERE}:lora_layers", model),
        {n: {"A": [2, 6], "B": [6, 2]} for n in ["blocks.0.q", "blocks.0.v", "blocks.1.q"]},
        what="the layers holding A and B",
        nudge="Put the LoRALinear in the model, in place of the linear layer.",
    )
    x = np.random.default_rng(1).normal(size=(2, 6)).astype(np.float32)
    with torch.no_grad():
        plain = TinyNet(0)(tensor(x)).numpy()
    t.close(
        t.call(model, tensor(x)),
        plain,
        rtol=1e-5,
        atol=1e-5,
        what="the model's output at the start",
        nudge="B starts at zero everywhere.",
    )


# -- 3. schedules and early stopping ------------------------------------------------------------


@problem(
    "warmup_cosine",
    hints=(
        "The rate climbs in a straight line from zero to its peak during the warm-up, then "
        "falls along half a cosine wave to the floor, and stays there.",
        "Check the step and the warm-up; during the warm-up return the peak times the step over "
        "the warm-up length; after it, measure progress as the steps since the warm-up over "
        "the steps left, capped at one, and return the floor plus the gap times half of one "
        "plus the cosine of pi times the progress.",
    ),
)
def _warmup_cosine(t):
    got = t.call("warmup_cosine", 5, 100, 10, 1e-3)
    t.true(
        type(got) is float,
        f"warmup_cosine returned a {type(got).__name__}",
        "Return a Python float (float(...)).",
    )
    t.close(
        got,
        5e-4,
        nudge="Half-way through a 10-step warm-up: half the peak.",
        wrong={"Step 0 of the warm-up is 0, step 10 the peak: use step / warmup.": 6e-4},
    )
    t.close(
        t.call("warmup_cosine", 10, 100, 10, 1e-3),
        1e-3,
        what="the rate at the warm-up's end",
        nudge="When the warm-up ends, the rate is the peak.",
    )
    t.close(
        t.call("warmup_cosine", 55, 100, 10, 1e-3),
        hf_cosine(55, 100, 10, 1e-3),
        what="the rate half-way through the decay",
        nudge="Compare with transformers' get_cosine_schedule_with_warmup: half the peak "
        "half-way through the decay.",
    )
    t.close(
        t.call("warmup_cosine", 100, 100, 10, 1e-3, 1e-5),
        1e-5,
        what="the rate at the last step",
        nudge="The decay ends at min_lr.",
    )
    t.raises(ValueError, "warmup_cosine", -1, 100, 10, 1e-3, nudge="A negative step is an error.")


@problem(
    "early_stopping",
    hints=(
        "Keep the best validation loss seen so far and count how many evaluations in a row "
        "failed to beat it by more than the margin; when the count reaches the patience, stop.",
        "Refuse a patience below one. Walk the losses with their index: a loss below the best "
        "minus the margin becomes the new best and resets the count; any other loss (a NaN "
        "too) adds one, and when the count reaches the patience return the best index and "
        "this index. If the list ends first, return the best index and None.",
    ),
)
def _early_stopping(t):
    losses = [0.9, 0.7, 0.72, 0.71, 0.75, 0.6]
    got = t.call("early_stopping", losses, 3)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"early_stopping returned {got!r}"[:80],
        "Return a pair (best_index, stop_index).",
    )
    t.equal(
        got,
        (1, 4),
        nudge="The best is 0.7 at index 1; indices 2, 3 and 4 do not beat it: stop at 4.",
        wrong={
            "Stop when the count of bad evaluations REACHES the patience.": (5, None),
            "Count evaluations since the best, not since the last improvement of any size.": (
                1,
                3,
            ),
        },
    )
    t.equal(
        t.call("early_stopping", [0.5, 0.4, 0.3], 1), (2, None), case="a loss that keeps falling"
    )
    t.equal(t.call("early_stopping", [], 2), (None, None), case="no evaluation yet")
    t.raises(ValueError, "early_stopping", [0.5], 0, nudge="A patience of 0 is an error.")


# -- 4. supervised fine-tuning of the small GPT ---------------------------------------------------


@problem(
    "sft_example",
    hints=(
        "The model reads the prompt and the answer as one sequence, but it is graded only on "
        "the answer: every other position gets the label the loss ignores.",
        "Refuse an empty prompt or answer and a sequence longer than the length. Join the two "
        "lists, pad on the right with the pad id up to the length; the labels are -100 under "
        "the prompt and the padding and the answer ids under the answer; the mask is one on "
        "real tokens. Return the three as int64 arrays in a dictionary.",
        "Do not shift the labels yourself: the Hugging Face model compares position t's "
        "prediction with the label at t + 1 internally.",
    ),
)
def _sft_example(t):
    got = t.call("sft_example", [5, 6, 7], [8, 9], 7, 0)
    t.true(
        isinstance(got, dict) and {"input_ids", "labels", "attention_mask"} <= set(got),
        f"sft_example returned {type(got).__name__}",
        "Return a dict with input_ids, labels and attention_mask.",
    )
    for key in ("input_ids", "labels", "attention_mask"):
        t.dtype(got[key], "i", nudge=f"{key} must be an integer array (int64).")
    t.equal(
        got["input_ids"].tolist(),
        [5, 6, 7, 8, 9, 0, 0],
        what="input_ids",
        nudge="The prompt, then the answer, then padding up to the length.",
    )
    t.equal(
        got["labels"].tolist(),
        [-100, -100, -100, 8, 9, -100, -100],
        what="labels",
        nudge="-100 under the prompt and the padding, the answer ids under the answer.",
        wrong={
            "Padding is not part of the answer: label it -100.": [-100, -100, -100, 8, 9, 0, 0],
            "Do not shift the labels: the model does it.": [-100, -100, 8, 9, -100, -100, -100],
        },
    )
    t.equal(got["attention_mask"].tolist(), [1, 1, 1, 1, 1, 0, 0], what="attention_mask")
    t.raises(
        ValueError,
        "sft_example",
        [5, 6, 7],
        [8, 9],
        4,
        0,
        nudge="Five tokens do not fit in four: raise a ValueError.",
    )


@problem(
    "answer_logprob",
    hints=(
        "A causal model gives, at every position, a distribution over the next token; the "
        "chance of a whole answer is the product of the chances of its tokens, each given all "
        "the tokens before it.",
        "Refuse an empty prompt or answer. Put the model in evaluation mode, run it once on the "
        "prompt followed by the answer without gradients, take the log-softmax of the logits; "
        "the answer's first token is predicted at the prompt's last position, and so on. Sum "
        "those log-probabilities, put the model back in the mode it had, return a float.",
        "Read the training flag before switching to evaluation mode, and give it back with "
        "the train method at the end. gather picks one entry per row.",
    ),
)
def _answer_logprob(t):
    model = t.build(f"{HERE}:tiny_gpt", 0, label="tiny_gpt")
    got = t.call("answer_logprob", model, [3, 4, 5], [6, 7])
    t.true(
        type(got) is float,
        f"answer_logprob returned a {type(got).__name__}",
        "Return a Python float.",
    )
    t.close(
        got,
        reference_logprob(0, [3, 4, 5], [6, 7]),
        rtol=1e-4,
        atol=1e-4,
        nudge="Sum log p(6 | 3 4 5) and log p(7 | 3 4 5 6): the logits at positions 2 and 3.",
    )
    t.true(
        t.call(f"{HERE}:training_flag", model) is True,
        "the model was left in evaluation mode",
        "Put the model back in the mode you found it in.",
    )
    t.raises(ValueError, "answer_logprob", model, [], [6], nudge="An empty prompt is an error.")


# -- quiz -----------------------------------------------------------------------------------------

number(
    "q_lora_count",
    hints=(
        "A low-rank update of a matrix stores two thin factors, one on each side.",
        "Count the entries of a rank-by-inputs matrix plus an outputs-by-rank matrix.",
    ),
)
choice(
    "q_zero_b",
    options="abcd",
    hints=(
        "Think about what the wrapped model computes before the first training step.",
        "Work out the product of the two factors when one of them is all zeros.",
    ),
)
choice(
    "q_merged_cost",
    options="abcd",
    hints=(
        "Merging folds the low-rank product into the weight once, after training.",
        "Compare the shape of the merged weight with the original one.",
    ),
)
number(
    "q_warmup_lr",
    hints=(
        "During the warm-up the rate grows in a straight line from zero.",
        "Take the fraction of the warm-up already done and multiply the peak by it.",
    ),
)
choice(
    "q_forgetting",
    options="abcd",
    hints=(
        "Forgetting happens when the weights that held the old skill are overwritten.",
        "Ask which option leaves the original weights exactly as they were.",
    ),
)
number(
    "q_cache_saving",
    hints=(
        "Frozen layers give the same output every epoch, so their work can be done once.",
        "Count the layer passes per epoch with and without the cache, for a few epochs.",
    ),
)
