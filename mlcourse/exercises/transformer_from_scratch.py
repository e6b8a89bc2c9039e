"""Checks for ``03_specialize/transformer_from_scratch.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks and the hints, never
a solution or a hidden test.

Expected values come from the libraries the notebook compares with:
``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``,
``nn.TransformerEncoderLayer`` (a pre-norm block) and Hugging Face's
``GPT2LMHeadModel`` (the learner's weights are loaded into them), or from
small cases worked out by hand. Objects the learner's code needs (a layer
with known weights, a model that records its mode, batches) are built on the
learner's side by the factories below.
"""

from __future__ import annotations

import math
import re

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mlcourse.check import choice, number, problem

HERE = "mlcourse.exercises.transformer_from_scratch"
STATE = "mlcourse.check.convert:state_dict"
SUMMARY = "mlcourse.check.convert:module_summary"
#: The notebook's chunking pattern (given code, not an exercise).
CHUNK_PATTERN = r" ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"


def chunks(text: str) -> list[str]:
    return re.findall(CHUNK_PATTERN, text)


def doc_sample() -> str:
    """The first 2,500 characters of the corpus's training text."""
    from mlcourse.gpt import corpus

    return corpus().train_text[:2500]


def tensor(data, dtype: str = "float32") -> torch.Tensor:
    """A tensor of ``dtype`` ("float32", "float64", "int64", "bool") holding ``data``."""
    return torch.tensor(np.asarray(data), dtype=getattr(torch, dtype))


def causal(T: int) -> torch.Tensor:
    """The square causal mask, True where attention is allowed."""
    return torch.ones(T, T, dtype=torch.bool).tril()


# -- factories and drivers: course code that runs on the learner's side --------------------


def randomize(module: nn.Module, seed: int) -> None:
    """Give every parameter of ``module`` seeded random values (layer norms included)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.4 * torch.randn(p.shape, generator=g, dtype=p.dtype))


class Heads(nn.Module):
    """The layers of a multi-head attention, with seeded weights, and no forward."""

    def __init__(self, width: int, heads: int, seed: int):
        super().__init__()
        self.proj = nn.Linear(width, width)
        self.qkv = nn.Linear(width, width * 3)
        self.n_heads = heads
        randomize(self, seed)


def feed(step, layer, x: torch.Tensor, pieces: list[int]) -> dict:
    """Feed ``x`` to ``step(layer, piece, cache)`` in pieces of the given lengths.

    Returns the outputs of every piece, the cache's key shape after every piece
    and the last cached keys, as data.
    """
    cache, outputs, shapes, start = None, [], [], 0
    with torch.no_grad():
        for n in pieces:
            out, cache = step(layer, x[:, start : start + n], cache)
            outputs.append(out.detach().numpy())
            shapes.append(list(cache[0].shape))
            start += n
    return {"outputs": outputs, "shapes": shapes, "last_k": cache[0].detach().numpy()}


class BigramLM(nn.Module):
    """A language model that is one embedding table (logits = row of the current token).

    It starts in evaluation mode and records, at every call, whether it was in
    training mode.
    """

    def __init__(self, vocab_size: int, seed: int, scale: float = 1.0):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, vocab_size)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.emb.weight.copy_(scale * torch.randn(vocab_size, vocab_size, generator=g))
        self.modes: list[bool] = []
        self.eval()

    def forward(self, ids):
        self.modes.append(self.training)
        return self.emb(ids)


def random_batches(vocab_size: int, n: int, batch: int, T: int, seed: int) -> list:
    """``n`` pairs ``(x, y)`` of random long tensors of shape ``(batch, T)``."""
    g = torch.Generator().manual_seed(seed)
    return [
        (
            torch.randint(0, vocab_size, (batch, T), generator=g),
            torch.randint(0, vocab_size, (batch, T), generator=g),
        )
        for _ in range(n)
    ]


# -- references, computed on the checks' side ------------------------------------------------


def torch_mha(state: dict, n_heads: int, x, mask) -> np.ndarray:
    """``nn.MultiheadAttention`` holding the learner's qkv and proj weights.

    ``mask`` follows the notebook's convention (True = allowed); PyTorch's is the opposite.
    """
    d = state["qkv.weight"].shape[1]
    ref = nn.MultiheadAttention(d, n_heads, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.as_tensor(state["qkv.weight"]))
        ref.in_proj_bias.copy_(torch.as_tensor(state["qkv.bias"]))
        ref.out_proj.weight.copy_(torch.as_tensor(state["proj.weight"]))
        ref.out_proj.bias.copy_(torch.as_tensor(state["proj.bias"]))
        x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        forbid = None if mask is None else ~torch.as_tensor(np.asarray(mask), dtype=torch.bool)
        out, _ = ref(x, x, x, attn_mask=forbid, need_weights=False)
    return out.numpy()


def torch_block(state: dict, n_heads: int, x, mask) -> np.ndarray:
    """PyTorch's pre-norm ``nn.TransformerEncoderLayer`` with the learner's block weights."""
    d = state["ln1.weight"].shape[0]
    ref = nn.TransformerEncoderLayer(
        d, n_heads, dim_feedforward=4 * d, dropout=0.0, activation="gelu",
        batch_first=True, norm_first=True,
    )  # fmt: skip
    names = {
        "self_attn.in_proj_weight": "attn.qkv.weight",
        "self_attn.in_proj_bias": "attn.qkv.bias",
        "self_attn.out_proj.weight": "attn.proj.weight",
        "self_attn.out_proj.bias": "attn.proj.bias",
        "linear1.weight": "mlp.0.weight",
        "linear1.bias": "mlp.0.bias",
        "linear2.weight": "mlp.2.weight",
        "linear2.bias": "mlp.2.bias",
        "norm1.weight": "ln1.weight",
        "norm1.bias": "ln1.bias",
        "norm2.weight": "ln2.weight",
        "norm2.bias": "ln2.bias",
    }
    ref.load_state_dict({theirs: torch.as_tensor(state[ours]) for theirs, ours in names.items()})
    ref.train()  # the plain path (the eval fast path needs other conditions)
    with torch.no_grad():
        x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        forbid = None if mask is None else ~torch.as_tensor(np.asarray(mask), dtype=torch.bool)
        return ref(x, src_mask=forbid).numpy()


def block_layers(summary: dict) -> list[str]:
    """The named layers of a block that hold parameters, with their shapes, plus the GELU."""
    out = []
    for layer in summary["layers"]:
        kind = layer["type"].rpartition(".")[2]
        shapes = ", ".join(f"{k} {tuple(v)}" for k, v in sorted(layer["params"].items()))
        if shapes or kind == "GELU":
            out.append(f"{layer['name']}: {kind}({shapes})")
    return out


def BLOCK_LAYERS(d: int, h: int) -> list[str]:  # noqa: N802 - a table, named like a constant
    """What :func:`block_layers` says of a correct ``Block(d, h)``."""
    return [
        f"ln1: LayerNorm(bias ({d},), weight ({d},))",
        f"attn.qkv: Linear(bias ({3 * d},), weight ({3 * d}, {d}))",
        f"attn.proj: Linear(bias ({d},), weight ({d}, {d}))",
        f"ln2: LayerNorm(bias ({d},), weight ({d},))",
        f"mlp.0: Linear(bias ({4 * d},), weight ({4 * d}, {d}))",
        "mlp.1: GELU()",
        f"mlp.2: Linear(bias ({d},), weight ({d}, {4 * d}))",
    ]


def gpt2_logits(state: dict, n_heads: int, ids) -> np.ndarray:
    """Hugging Face's ``GPT2LMHeadModel`` holding the learner's TinyGPT weights, on ``ids``."""
    from transformers import GPT2Config, GPT2LMHeadModel

    V, d = state["tok.weight"].shape
    n_layers = len({k.split(".")[1] for k in state if k.startswith("blocks.")})
    config = GPT2Config(
        vocab_size=V, n_positions=state["pos.weight"].shape[0], n_embd=d, n_layer=n_layers,
        n_head=n_heads, n_inner=4 * d, activation_function="gelu", resid_pdrop=0.0,
        embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5, bos_token_id=0,
        eos_token_id=0,
    )  # fmt: skip
    model = GPT2LMHeadModel(config).eval()
    s = {k: torch.as_tensor(np.asarray(v)) for k, v in state.items()}
    new = {
        "transformer.wte.weight": s["tok.weight"],
        "transformer.wpe.weight": s["pos.weight"],
        "transformer.ln_f.weight": s["ln_f.weight"],
        "transformer.ln_f.bias": s["ln_f.bias"],
        "lm_head.weight": s["tok.weight"],
    }
    for i in range(n_layers):
        theirs, ours = f"transformer.h.{i}.", f"blocks.{i}."
        for a, b, transpose in (
            ("ln_1", "ln1", False), ("ln_2", "ln2", False), ("attn.c_attn", "attn.qkv", True),
            ("attn.c_proj", "attn.proj", True), ("mlp.c_fc", "mlp.0", True),
            ("mlp.c_proj", "mlp.2", True),
        ):  # fmt: skip
            weight = s[f"{ours}{b}.weight"]
            new[f"{theirs}{a}.weight"] = weight.T.contiguous() if transpose else weight
            new[f"{theirs}{a}.bias"] = s[f"{ours}{b}.bias"]
    model.load_state_dict(new, strict=False)
    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(ids), dtype=torch.long)).logits.numpy()


# -- 2. byte-pair encoding ---------------------------------------------------------------------


@problem(
    "merge_pair",
    hints=(
        "Walk along the list once, looking at each position and the one after it; when the "
        "two match the pair, emit the new id and jump past both.",
        "Keep an index that you advance by hand (a while loop): by two after a merge, by one "
        "otherwise. Build a new list; never edit the one you were given.",
        "Check that a second element exists before comparing it, so the last id is handled.",
    ),
)
def _merge_pair(t):
    got = t.call("merge_pair", [1, 2, 3, 1, 2], (1, 2), 256)
    t.equal(got, [256, 3, 256], nudge="Both occurrences of (1, 2) become 256; the 3 stays.")
    t.equal(
        t.call("merge_pair", [7, 7, 7], (7, 7), 300),
        [300, 7],
        case="three equal ids and the pair (7, 7)",
        wrong={
            "Occurrences overlap here: after merging, continue after BOTH merged ids.": [300, 300],
        },
    )
    t.equal(
        t.call("merge_pair", [4, 1, 2], (1, 2), 99),
        [4, 99],
        case="the pair at the end of the list",
        nudge="The last two ids can be a pair too.",
    )
    t.equal(t.call("merge_pair", [2, 1], (1, 2), 99), [2, 1], case="the pair reversed")


@problem(
    "bpe_train",
    hints=(
        "Each round finds the adjacent pair that occurs most often, weighting every distinct "
        "chunk by how many times it appears, and replaces it everywhere by a brand-new id.",
        "Count the chunks once. Per merge: tally the pairs of every chunk, multiplied by the "
        "chunk's count; stop when the best count is below two; otherwise record the pair and "
        "rewrite every chunk with your merge function. Ties go to the smallest pair.",
        "The key (minus the count, the pair) sorts the most frequent first and breaks ties by "
        "the smaller tuple; new ids are 256 plus the merge's position in the list.",
    ),
)
def _bpe_train(t):
    text = "the cat the hat"
    got = t.call("bpe_train", text, 10)
    t.true(isinstance(got, list), f"bpe_train returned a {type(got).__name__}", "Return a list.")
    t.equal(
        got,
        [(97, 116), (104, 101), (116, 257)],
        nudge="By hand: 'at', 'th' and 'he' all occur twice; the smallest pair, (97, 116), "
        "comes first. Then 'he' (104, 101) becomes 257, and 't' + 257 is 'the'. Pairs seen once "
        "are not merged.",
        wrong={
            "Ties must go to the SMALLEST pair.": [(116, 104), (256, 101), (97, 116)],
            "Stop when the best pair occurs fewer than 2 times.": [
                (97, 116), (104, 101), (116, 257), (32, 99), (32, 104), (32, 258),
                (259, 256), (260, 256),
            ],
        },
    )  # fmt: skip
    t.equal(
        t.call("bpe_train", "aaaa aaaa", 2),
        [(97, 97), (256, 256)],
        case="'aaaa aaaa' with 2 merges",
        nudge="Each chunk's pairs count as many times as the chunk occurs; a merged pair of "
        "merges is a new pair.",
    )
    t.equal(t.call("bpe_train", text, 0), [], case="zero merges")


@problem(
    "bpe_encode",
    hints=(
        "Encoding replays the training: the same chunks, the same bytes, and the merges "
        "applied one after the other in the order they were learned.",
        "For each chunk, start from its bytes and apply every merge in turn with your merge "
        "function (merge number r makes id 256 plus r), then append the chunk's ids.",
        "A dictionary from chunk to ids avoids encoding the same chunk twice.",
    ),
)
def _bpe_encode(t):
    merges = [(97, 116), (104, 101), (116, 257)]
    got = t.call("bpe_encode", "the hat", merges)
    t.equal(
        got,
        [258, 32, 104, 256],
        nudge="'the' is merges 1 then 2 (id 258); ' hat' is a space, 'h' and the merged 'at'.",
    )
    t.equal(
        t.call("bpe_encode", "the hat", [(101, 32)]),
        [116, 104, 101, 32, 104, 97, 116],
        case="a merge of 'e' and a space",
        wrong={
            "Merges never cross chunks: cut the text with pretokenize first.": [
                116, 104, 256, 104, 97, 116
            ]
        },
    )  # fmt: skip
    t.equal(
        t.call("bpe_encode", "thé", merges),
        [116, 104, 195, 169],
        case="an accented letter (two bytes)",
        nudge="Work on the UTF-8 bytes of each chunk: 'é' is two bytes, 195 and 169.",
    )
    t.equal(t.call("bpe_encode", "", merges), [], case="an empty text")


@problem(
    "bpe_decode",
    hints=(
        "Every token stands for a string of bytes: the 256 first for one byte each, and each "
        "merged token for the bytes of its two parts, one after the other.",
        "Build a table from id to bytes, filling the merged ids in order (each merge only uses "
        "ids made before it); check every id is in it; join the bytes and decode them with "
        "replacement of broken characters.",
    ),
)
def _bpe_decode(t):
    merges = [(97, 116), (104, 101), (116, 257)]
    t.equal(t.call("bpe_decode", [258, 32, 104, 256], merges), "the hat")
    t.equal(
        t.call("bpe_decode", list("naïve ✓".encode()), merges),
        "naïve ✓",
        case="the bytes of a non-ASCII text",
        nudge="Join all the bytes first, then decode once as UTF-8: a character can span tokens.",
    )
    t.equal(
        t.call("bpe_decode", [195], merges),
        "\ufffd",
        case="half of a two-byte character",
        nudge="Decode with errors='replace': a broken character becomes '\\ufffd'.",
    )
    t.raises(
        ValueError,
        "bpe_decode",
        [259],
        merges,
        nudge="256 bytes + 3 merges: id 259 does not exist. Raise a ValueError.",
    )


# -- 3-5. attention -----------------------------------------------------------------------------


@problem(
    "causal_mask",
    hints=(
        "Each query sits at some position of the sequence and may look at that position and "
        "every earlier one; the queries are the last positions.",
        "Compare a column of query positions (from n_keys minus n_queries up to the end) with "
        "a row of key positions by broadcasting: allowed where the key is not after the query.",
    ),
)
def _causal_mask(t):
    got = t.call("causal_mask", 4, 4)
    t.shape(got, (4, 4))
    t.true(
        got.dtype == np.bool_,
        f"the mask's dtype is {got.dtype}",
        "Return a boolean tensor (a comparison gives one).",
    )
    t.equal(
        np.asarray(got, dtype=bool),
        causal(4).numpy(),
        nudge="The lower triangle, diagonal included.",
    )
    t.equal(
        np.asarray(t.call("causal_mask", 2, 4), dtype=bool),
        np.array([[True, True, True, False], [True, True, True, True]]),
        case="2 queries, the last 2 of 4 positions",
        wrong={
            "The queries are the LAST positions, not the first ones.": np.array(
                [[True, False, False, False], [True, True, False, False]]
            )
        },
    )
    t.raises(ValueError, "causal_mask", 3, 2, nudge="3 queries cannot be the last of 2 positions.")


@problem(
    "attention",
    hints=(
        "Scores compare every query with every key; a softmax over the keys turns them into "
        "weights; the output mixes the values with those weights.",
        "Multiply the queries by the keys transposed on their last two axes, divide by the "
        "square root of the key length, fill the forbidden scores with minus infinity, take "
        "the softmax along the last axis, then multiply by the values.",
        "The mask is True where attention is ALLOWED, so fill where it is not (its negation).",
    ),
)
def _attention(t):
    r = np.random.default_rng(0)
    q, k, v = (r.normal(size=(2, 4, 8)) for _ in range(3))
    got = t.call("attention", tensor(q), tensor(k), tensor(v))
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"attention returned a {type(got).__name__}",
        "Return a pair (output, weights).",
    )
    out, weights = got
    t.shape(out, (2, 4, 8))
    t.shape(weights, (2, 4, 4), nudge="One weight per (query, key) pair.")
    want = F.scaled_dot_product_attention(tensor(q), tensor(k), tensor(v)).numpy()
    unscaled = torch.softmax(tensor(q) @ tensor(k).transpose(-2, -1), -1) @ tensor(v)
    t.close(
        out,
        want,
        rtol=1e-5,
        atol=1e-6,
        what="the output",
        nudge="Compare with F.scaled_dot_product_attention(q, k, v).",
        wrong={"Divide the scores by sqrt(d), the length of a key.": unscaled.numpy()},
    )
    t.close(np.asarray(weights).sum(-1), np.ones((2, 4)), what="each row of weights summed",
            nudge="The softmax runs over the keys: the last axis.")  # fmt: skip
    out, weights = t.call("attention", tensor(q), tensor(k), tensor(v), causal(4))
    want = F.scaled_dot_product_attention(tensor(q), tensor(k), tensor(v), is_causal=True)
    t.close(out, want.numpy(), rtol=1e-5, atol=1e-6, case="with a causal mask",
            nudge="Masked scores become minus infinity BEFORE the softmax.")  # fmt: skip


@problem(
    "MultiHeadAttention",
    hints=(
        "The heads are slices of the model's width: one projection makes queries, keys and "
        "values for all heads, each head attends on its own slice, and the output projection "
        "mixes the heads back together.",
        "Project and split into three; reshape each to batch, positions, heads, head width and "
        "move the head axis before the positions; attend; move it back, flatten the heads into "
        "the width, and project.",
        "transpose(1, 2) swaps the positions and heads axes both ways; use reshape, not view, "
        "after it.",
    ),
)
def _multi_head_attention(t):
    mha = t.call("MultiHeadAttention", 8, 2, keep=True)
    summary = t.value(mha, convert=SUMMARY)
    layers = {layer["name"]: layer for layer in summary["layers"]}
    t.true(
        "qkv" in layers and "proj" in layers,
        f"the module has the layers {sorted(layers)}",
        "Create exactly self.qkv and self.proj.",
    )
    t.equal(
        [layers["qkv"].get("in_features"), layers["qkv"].get("out_features")],
        [8, 24],
        what="qkv's (in, out) sizes",
        nudge="One layer makes queries, keys and values: 3 * d_model outputs.",
    )
    state = t.value(mha, convert=STATE)
    x = np.random.default_rng(1).normal(size=(1, 5, 8)).astype(np.float32)
    got = t.call(mha, tensor(x), causal(5))
    t.shape(got, (1, 5, 8))
    t.close(
        got,
        torch_mha(state, 2, x, causal(5).numpy()),
        rtol=1e-4,
        atol=1e-5,
        nudge="Compare with nn.MultiheadAttention holding your weights; check the order of "
        "the reshape (positions, then heads) and of the transposes.",
    )
    t.raises(ValueError, "MultiHeadAttention", 10, 3, nudge="10 cannot be split into 3 heads.")


@problem(
    "sinusoidal_positions",
    hints=(
        "Each pair of columns is a sine and a cosine of the position at one frequency; the "
        "frequencies shrink geometrically from one pair to the next.",
        "Build a column of positions and a row of frequencies (one per pair), multiply them by "
        "broadcasting, and write the sines into the even columns and the cosines into the odd.",
    ),
)
def _sinusoidal_positions(t):
    got = t.call("sinusoidal_positions", 6, 8)
    t.shape(got, (6, 8))
    t.equal(str(got.torch_dtype), "torch.float32", what="the dtype",
            nudge="Return float32 (.float()).")  # fmt: skip
    t.close(got[0], [0, 1, 0, 1, 0, 1, 0, 1], what="position 0",
            nudge="At position 0 every sine is 0 and every cosine is 1.")  # fmt: skip
    t.close(
        [got[3, 0], got[3, 1], got[5, 2], got[5, 3], got[5, 6]],
        [math.sin(3), math.cos(3), math.sin(5 / 10000 ** (2 / 8)), math.cos(5 / 10000 ** (2 / 8)),
         math.sin(5 / 10000 ** (6 / 8))],
        rtol=1e-5,
        atol=1e-6,
        what="entries (3, 0), (3, 1), (5, 2), (5, 3) and (5, 6)",
        nudge="Column pair i uses the frequency 1 / 10000 ** (2 i / d_model).",
    )  # fmt: skip
    t.raises(ValueError, "sinusoidal_positions", 3, 7, nudge="An odd d_model has no cosine pair.")


# -- 6-8. the GPT -------------------------------------------------------------------------------


@problem(
    "Block",
    hints=(
        "Each of the two steps normalises a copy of the running representation, transforms it, "
        "and adds the result back to the representation itself.",
        "First the attention on the normalised input (with the mask), added to the input; then "
        "the MLP on the normalised result, added to that result.",
    ),
)
def _block(t):
    block = t.call("Block", 8, 2, keep=True)
    t.equal(
        block_layers(t.value(block, convert=SUMMARY)),
        BLOCK_LAYERS(8, 2),
        what="the block's layers",
        nudge="ln1, attn (your MultiHeadAttention), ln2 and mlp = Linear, GELU, Linear.",
    )
    t.call(f"{HERE}:randomize", block, 0)
    state = t.value(block, convert=STATE)
    x = np.random.default_rng(2).normal(size=(2, 5, 8)).astype(np.float32)
    got = t.call(block, tensor(x), causal(5))
    t.close(
        got,
        torch_block(state, 2, x, causal(5).numpy()),
        rtol=1e-4,
        atol=1e-5,
        nudge="Compare with nn.TransformerEncoderLayer(norm_first=True): the norm goes on the "
        "sub-layer's input, and the residual adds the un-normalised x.",
    )


@problem(
    "TinyGPT",
    hints=(
        "Token vectors plus position vectors go through the blocks under the causal mask; a "
        "final norm and a head that shares the token embedding's matrix score every token.",
        "In the constructor, create the layers and make the head's weight the very same "
        "parameter as the token embedding's. In forward, check the length, add the position "
        "embeddings of 0 to T minus 1, run every block with one causal mask, then norm and head.",
    ),
)
def _tiny_gpt(t):
    model = t.call("TinyGPT", 20, 8, 8, 2, 2, keep=True)
    t.call(f"{HERE}:randomize", model, 1)
    t.true(
        t.same(model.head.weight, model.tok.weight),
        "the head's weight is not the token embedding's",
        "Tie them: assign the embedding's weight parameter to the head.",
    )
    state = t.value(model, convert=STATE)
    ids = np.array([[3, 1, 4, 1, 5, 9], [2, 6, 5, 3, 5, 8]])
    got = t.call(model, tensor(ids, "int64"))
    t.shape(got, (2, 6, 20), nudge="One score per vocabulary token at every position.")
    t.close(
        got,
        gpt2_logits(state, 2, ids),
        rtol=1e-4,
        atol=1e-4,
        nudge="Compare with Hugging Face's GPT2LMHeadModel holding your weights: positions, "
        "the causal mask in every block, the final norm, the tied head.",
    )
    t.raises(
        ValueError,
        model,
        tensor(np.zeros((1, 9)), "int64"),
        nudge="9 tokens, but only 8 positions: raise a ValueError.",
    )


@problem(
    "train_gpt",
    hints=(
        "Each batch is one step: measure the loss, clear what the last step left behind, "
        "back-propagate, tame the gradient's size, and let the optimiser update the weights.",
        "Training mode, one AdamW over the model's parameters, then for every batch: logits, "
        "cross-entropy on the flattened positions, zero the gradients, backward, clip the "
        "norm, step; keep each loss as a plain number.",
    ),
)
def _train_gpt(t):
    data = random_batches(6, 3, 2, 4, seed=0)
    model = t.build(f"{HERE}:BigramLM", 6, 0, 2.0)
    start = BigramLM(6, 0, 2.0).emb.weight.detach().numpy()
    got = t.call("train_gpt", model, data, lr=0.05)
    t.true(
        isinstance(got, list) and len(got) == 3,
        f"train_gpt returned a {type(got).__name__} (length "
        f"{len(got) if hasattr(got, '__len__') else '?'})",
        "Return a list with one loss per batch.",
    )
    t.true(all(type(v) is float for v in got), "the losses are not Python floats",
           "Use loss.item().")  # fmt: skip
    x, y = data[0]
    logits = start[x.numpy()]
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    first = float(-np.take_along_axis(logp, y.numpy()[..., None], -1).mean())
    t.close(
        got[0],
        first,
        rtol=1e-5,
        what="the first loss",
        nudge="The mean cross-entropy over all B x T positions, measured before the first step.",
    )
    t.true(
        not np.allclose(t.value(model.emb.weight), start),
        "the model's weights did not change",
        "Call backward and the optimiser's step for every batch.",
    )
    t.true(
        all(t.value(model.modes)),
        "the model ran in evaluation mode",
        "Put the model in training mode first (it arrives in evaluation mode).",
    )
    again = t.call("train_gpt", t.build(f"{HERE}:BigramLM", 6, 0, 2.0), [data[0]] * 4, lr=0.05)
    t.true(
        again[-1] < again[0],
        f"training on the same batch four times gave the losses {np.round(again, 4).tolist()}",
        "The loss should fall: check the sign of the update and that gradients are cleared.",
    )


@problem(
    "bigram_perplexity",
    hints=(
        "Count how often each token follows each other token, turn every row of counts into a "
        "smoothed probability distribution, and score each actual next token of the "
        "validation ids.",
        "Count the training pairs into a square table; add alpha to every cell and divide each "
        "row by its sum; take the mean of minus the log-probabilities of the validation pairs "
        "and exponentiate.",
    ),
)
def _bigram_perplexity(t):
    tr, va = np.array([0, 1, 0, 1, 1]), np.array([0, 1, 1])
    got = t.call("bigram_perplexity", tr, va, 2, alpha=1.0)
    t.true(type(got) is float, f"the perplexity is a {type(got).__name__}",
           "Return a Python float (float(...)).")  # fmt: skip
    t.close(
        got,
        1 / math.sqrt(0.75 * 0.5),
        nudge="By hand: after 0 the counts are (0, 2), smoothed to 3/4 for token 1; after 1 "
        "they are (1, 1), smoothed to 1/2. The perplexity is exp of the mean of -ln 3/4 "
        "and -ln 1/2.",
        wrong={
            "Smooth the denominator too: add alpha times the vocabulary size.": 1
            / math.sqrt(1.5 * 1.0),
            "Perplexity is the exponential of the MEAN negative log-likelihood, not the sum.": 1
            / (0.75 * 0.5),
        },
    )
    t.close(
        t.call("bigram_perplexity", tr, va, 2, alpha=0.0),
        math.sqrt(2),
        case="alpha = 0 (plain counts)",
    )
    t.raises(ValueError, "bigram_perplexity", tr, [1], 2, nudge="One id holds no pair to predict.")


@problem(
    "next_token_probs",
    hints=(
        "Filtering removes the unlikely tokens before the softmax, and the temperature "
        "stretches or squeezes the remaining logits; zero temperature is the limit where only "
        "the best token is left.",
        "Validate the arguments; handle zero temperature apart (a one-hot vector at the "
        "argmax); otherwise find the k-th largest logit, set smaller logits to minus infinity, "
        "divide by the temperature and take the softmax.",
        "torch.topk gives the k largest values, sorted: the last one is the threshold.",
    ),
)
def _next_token_probs(t):
    from scipy.special import softmax

    z = np.array([2.0, 1.0, 0.0, -1.0])
    got = t.call("next_token_probs", tensor(z))
    t.shape(got, (4,))
    t.close(got, softmax(z), rtol=1e-5, nudge="At temperature 1 with no top-k: the plain softmax.")
    t.close(
        t.call("next_token_probs", tensor(z), temperature=0.5),
        softmax(z / 0.5),
        rtol=1e-5,
        case="temperature 0.5",
        wrong={"DIVIDE the logits by the temperature.": softmax(z * 0.5)},
    )
    t.close(
        t.call("next_token_probs", tensor(z), top_k=2),
        [softmax(z[:2])[0], softmax(z[:2])[1], 0.0, 0.0],
        rtol=1e-5,
        atol=1e-8,
        case="top_k=2",
        nudge="Keep the 2 largest logits, renormalise over them, and give the others 0.",
    )
    t.close(
        t.call("next_token_probs", tensor(z), temperature=0),
        [1.0, 0.0, 0.0, 0.0],
        case="temperature 0 (greedy)",
        nudge="Temperature 0 is greedy: all the probability on the largest logit.",
    )
    t.raises(ValueError, "next_token_probs", tensor(z), temperature=-1.0,
             nudge="A negative temperature makes no sense: raise a ValueError.")  # fmt: skip


@problem(
    "attend_step",
    hints=(
        "The cache holds the keys and values of the positions already seen; the new positions "
        "add theirs, and their queries look at everything cached so far, their own included.",
        "Project the new positions and split them into heads as in the full layer; join the "
        "cached keys and values with the new ones along the positions axis; attend with the "
        "two-size causal mask; merge the heads and project. Return the output and the new pair.",
    ),
)
def _attend_step(t):
    layer = t.build(f"{HERE}:Heads", 8, 2, 0)
    state = t.value(layer, convert=STATE)
    x = np.random.default_rng(3).normal(size=(1, 4, 8)).astype(np.float32)
    got = t.call(f"{HERE}:feed", t.ref("attend_step"), layer, tensor(x), [1, 1, 1, 1])
    t.equal(
        [tuple(s) for s in got["shapes"]],
        [(1, 2, 1, 4), (1, 2, 2, 4), (1, 2, 3, 4), (1, 2, 4, 4)],
        what="the cached keys' shape after each token",
        nudge="The cache is (batch, heads, positions so far, head width), one position more "
        "after every token.",
    )
    t.close(
        np.concatenate(got["outputs"], axis=1),
        torch_mha(state, 2, x, causal(4).numpy()),
        rtol=1e-4,
        atol=1e-5,
        what="the outputs, token by token",
        nudge="Token by token, the outputs must equal causal attention over the whole sequence.",
    )


# -- the quiz ---------------------------------------------------------------------------------

number(
    "q_score_std",
    hints=(
        "Variances of independent terms add up.",
        "Find the variance of a sum of d products of variance one, then take its square root.",
    ),
)
choice(
    "q_no_mask",
    options="abcd",
    hints=(
        "Ask what the target of position t is, and whether position t can now see it.",
        "An unmasked model can copy; think about the loss it reaches, and about generation.",
    ),
)
number(
    "q_block_params",
    hints=(
        "Every linear layer has inputs times outputs weights plus one bias per output; a "
        "layer norm has a scale and a shift per feature.",
        "Add the qkv and output projections, the two MLP layers (hidden width four times the "
        "model's) and the two layer norms.",
    ),
)
choice(
    "q_topk_one",
    options="abcd",
    hints=(
        "Ask how many tokens are left after the filter.",
        "What is the softmax of a single number?",
    ),
)
number(
    "q_perplexity",
    hints=(
        "Perplexity is the exponential of the mean negative log-likelihood.",
        "Average the two negative logarithms with equal weights, then exponentiate.",
    ),
)
number(
    "q_kv_memory",
    hints=(
        "The cache holds a key and a value vector for every position in every layer.",
        "Multiply two by the layers, the positions, the width and the bytes per number.",
    ),
)
choice(
    "q_unseen_text",
    options="abcd",
    hints=(
        "A byte-level vocabulary starts from every possible byte.",
        "Every character of any language is some sequence of UTF-8 bytes.",
    ),
)
