"""Fine-tuning helpers for ``03_specialize/finetuning_and_lora.ipynb``: data, caches, loops.

The notebook's exercises are the from-scratch parts (LoRA, schedules, early
stopping, supervised fine-tuning tensors, answer scoring); this module holds
the plumbing they plug into, tested in ``tests/test_finetune.py``:

* :func:`sentiment_split`: the UCI sentences split exactly as
  ``sentiment_analysis.ipynb`` splits them (80/20, seed 42, stratified on the
  label), so held-out accuracies are comparable between the two notebooks;
* :func:`cache_states`: one pass of MiniLM (:mod:`mlcourse.embeddings`) over
  the texts, keeping the token states that enter one transformer layer, and
  the frozen sentence embeddings. Fine-tuning only the layers above it then
  never pays for the frozen layers again;
* :class:`TopClassifier`: copies of MiniLM's top layers, mean pooling and a
  linear head, run on cached states;
* :func:`train_classifier`, :func:`accuracy`, :func:`count_parameters`;
* :func:`penguin_pairs`: instruction-style (prompt, answer) pairs written from
  the Palmer penguins table, for fine-tuning the course's small GPT, and
  :func:`choice_logprobs`, which scores every allowed answer in one batch.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: The held-out split of ``sentiment_analysis.ipynb``.
SPLIT_SEED = 42
TEST_SIZE = 0.2
#: MiniLM reads at most this many tokens per sentence here (about 95 % fit whole).
MAX_LENGTH = 32


class FinetuneError(ValueError):
    """Bad input to a fine-tuning helper; the message says what and why."""


def sentiment_split():
    """``(train, test)`` DataFrames of the UCI sentences (2,400 and 600 rows).

    The split of ``sentiment_analysis.ipynb``: ``train_test_split`` with
    ``test_size=0.2``, ``random_state=42``, stratified on ``label``.
    """
    from sklearn.model_selection import train_test_split

    from mlcourse.data import load_sentiment

    frame = load_sentiment()
    return train_test_split(
        frame, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=frame["label"]
    )


def minilm():
    """``(bert, tokenizer)``: the verified MiniLM encoder's ``BertModel`` and its tokenizer."""
    from mlcourse import embeddings

    encoder = embeddings.load_encoder()
    return encoder[0].auto_model, encoder.tokenizer


def additive_mask(mask, dtype=None):
    """A (B, T) 0/1 attention mask as the additive (B, 1, 1, T) mask BERT layers add to scores."""
    import torch

    mask = torch.as_tensor(mask)
    if mask.dim() != 2:
        raise FinetuneError(f"the attention mask must be (batch, tokens), got {tuple(mask.shape)}")
    dtype = dtype or torch.float32
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def masked_mean(states, mask):
    """Mean of the token states where ``mask`` is 1 (the sentence-transformers pooling)."""
    m = mask.to(states.dtype).unsqueeze(-1)
    return (states * m).sum(1) / m.sum(1).clamp(min=1e-9)


@dataclass
class CachedStates:
    """Token states entering layer ``layer`` of MiniLM, for a list of texts (in their order).

    Attributes:
        states: float32 tensor (N, T, 384), zero where padded.
        mask: int64 tensor (N, T), 1 on real tokens.
        embeddings: float32 NumPy (N, 384), the frozen unit-length sentence
            embeddings (what ``mlcourse.embeddings.encode`` returns).
        input_ids: int64 tensor (N, T), the token ids (cached once).
        layer: the index of the first layer not yet applied.
        seconds: how long the pass took.
    """

    states: object
    mask: object
    embeddings: np.ndarray
    input_ids: object
    layer: int
    seconds: float = 0.0

    def __len__(self) -> int:
        return int(self.mask.shape[0])

    def subset(self, index) -> CachedStates:
        """The rows ``index`` (a sequence of positions), as a new cache."""
        import torch

        idx = torch.as_tensor(np.asarray(index, dtype=np.int64))
        return CachedStates(
            self.states[idx],
            self.mask[idx],
            self.embeddings[idx.numpy()],
            self.input_ids[idx],
            self.layer,
            self.seconds,
        )


def cache_states(
    texts: Sequence[str],
    layer: int = 5,
    *,
    max_length: int = MAX_LENGTH,
    batch_size: int = 64,
    bert=None,
    tokenizer=None,
) -> CachedStates:
    """Run MiniLM once over ``texts``; keep the states entering ``layer`` and the embeddings.

    Texts are tokenized once (truncated to ``max_length`` tokens) and run in
    batches of similar length, so little time goes into padding.
    """
    import torch

    texts = list(texts)
    if not texts:
        raise FinetuneError("no texts to encode")
    if not all(isinstance(t, str) for t in texts):
        raise FinetuneError("every text must be a string")
    if bert is None or tokenizer is None:
        bert, tokenizer = minilm()
    n_layers = len(bert.encoder.layer)
    if not 0 <= layer <= n_layers:
        raise FinetuneError(f"layer must be between 0 and {n_layers}, got {layer}")
    started = time.perf_counter()
    enc = tokenizer(
        texts, truncation=True, max_length=max_length, padding="max_length", return_tensors="pt"
    )
    ids, mask = enc["input_ids"], enc["attention_mask"]
    lengths = mask.sum(1)
    width = int(lengths.max())
    ids, mask = ids[:, :width].contiguous(), mask[:, :width].contiguous()
    states = torch.zeros(len(texts), width, bert.config.hidden_size)
    pooled = torch.zeros(len(texts), bert.config.hidden_size)
    order = torch.argsort(lengths, stable=True)
    was_training = bert.training
    bert.eval()
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            t = int(lengths[rows].max())
            out = bert(
                input_ids=ids[rows, :t], attention_mask=mask[rows, :t], output_hidden_states=True
            )
            states[rows, :t] = out.hidden_states[layer] * mask[rows, :t, None]
            pooled[rows] = masked_mean(out.last_hidden_state, mask[rows, :t])
    bert.train(was_training)
    emb = torch.nn.functional.normalize(pooled, dim=1).numpy()
    return CachedStates(states, mask, emb, ids, layer, time.perf_counter() - started)


def _torch_module():
    from torch import nn

    return nn


class TopClassifier(_torch_module().Module):
    """Copies of MiniLM's layers from ``layer`` on, mean pooling, and a linear head.

    ``forward(states, mask)`` takes cached states (:func:`cache_states`) and
    returns logits (B, n_classes). The copied layers are trainable; the
    original encoder is never changed.
    """

    def __init__(self, bert, layer: int = 5, n_classes: int = 2, seed: int = 0):
        import torch
        from torch import nn

        super().__init__()
        n_layers = len(bert.encoder.layer)
        if not 0 <= layer < n_layers:
            raise FinetuneError(f"layer must be between 0 and {n_layers - 1}, got {layer}")
        self.layers = nn.ModuleList(
            copy.deepcopy(bert.encoder.layer[i]) for i in range(layer, n_layers)
        )
        for p in self.layers.parameters():
            p.requires_grad_(True)
        g = torch.Generator().manual_seed(seed)
        self.head = nn.Linear(bert.config.hidden_size, n_classes)
        with torch.no_grad():
            bound = 1 / math.sqrt(bert.config.hidden_size)
            self.head.weight.uniform_(-bound, bound, generator=g)
            self.head.bias.zero_()

    def pooled(self, states, mask):
        """The unit-length sentence embeddings (what ``embeddings.encode`` computes)."""
        import torch

        extended = additive_mask(mask, states.dtype)
        h = states
        for block in self.layers:
            h = block(h, attention_mask=extended)
            h = h[0] if isinstance(h, tuple) else h
        return torch.nn.functional.normalize(masked_mean(h, mask), dim=1)

    def head_from_probe(self, probe) -> None:
        """Start the head from a fitted binary ``LogisticRegression`` on the embeddings.

        Two logits ``-z/2`` and ``z/2``, with ``z`` the probe's decision value, give the
        probe's probabilities exactly: fine-tuning then starts from the probe's accuracy
        (linear probing, then fine-tuning: Kumar et al., 2022).
        """
        import torch

        coef = np.asarray(probe.coef_, dtype=np.float32)
        intercept = np.asarray(probe.intercept_, dtype=np.float32)
        if coef.shape != (1, self.head.in_features) or self.head.out_features != 2:
            raise FinetuneError(
                f"need a binary probe on {self.head.in_features} features, got coef {coef.shape}"
            )
        with torch.no_grad():
            self.head.weight.copy_(torch.from_numpy(np.concatenate([-coef / 2, coef / 2])))
            self.head.bias.copy_(torch.from_numpy(np.concatenate([-intercept / 2, intercept / 2])))

    def forward(self, states, mask):
        return self.head(self.pooled(states, mask))


def _batch(cache: CachedStates, rows):
    t = max(1, int(cache.mask[rows].sum(1).max()))
    return cache.states[rows, :t], cache.mask[rows, :t]


@dataclass
class History:
    """What :func:`train_classifier` saw: losses per step, validation losses, time."""

    train_loss: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    val_steps: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    best_step: int | None = None
    stopped_at: int | None = None
    seconds: float = 0.0


def evaluate(model, cache: CachedStates, labels, batch_size: int = 128) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` of ``model`` on a cache and its labels."""
    import torch
    import torch.nn.functional as F

    y = torch.as_tensor(np.array(labels, dtype=np.int64))
    if len(y) != len(cache):
        raise FinetuneError(f"{len(y)} labels for {len(cache)} cached texts")
    was = model.training
    model.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(y), batch_size):
            rows = torch.arange(start, min(start + batch_size, len(y)))
            logits = model(*_batch(cache, rows))
            total += F.cross_entropy(logits, y[rows], reduction="sum").item()
            correct += int((logits.argmax(1) == y[rows]).sum())
    model.train(was)
    return total / len(y), correct / len(y)


def accuracy(model, cache: CachedStates, labels) -> float:
    """Held-out accuracy of ``model`` on a cache."""
    return evaluate(model, cache, labels)[1]


def train_classifier(
    model,
    cache: CachedStates,
    labels,
    *,
    steps: int,
    lr_at: Callable[[int], float],
    batch_size: int = 32,
    val: tuple[CachedStates, Sequence[int]] | None = None,
    eval_every: int = 10,
    should_stop: Callable[[list], bool] | None = None,
    weight_decay: float = 0.01,
    seed: int = 0,
) -> History:
    """AdamW on the model's trainable parameters, ``lr_at(step)`` at every step.

    With ``val``, the validation loss is measured before training and every
    ``eval_every`` steps;
    ``should_stop(val_losses)`` ends training early, and the weights of the
    best validation loss are restored at the end.
    """
    import torch
    import torch.nn.functional as F

    if steps < 1:
        raise FinetuneError(f"steps must be at least 1, got {steps}")
    y = torch.as_tensor(np.array(labels, dtype=np.int64))
    if len(y) != len(cache):
        raise FinetuneError(f"{len(y)} labels for {len(cache)} cached texts")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise FinetuneError("the model has no trainable parameter")
    optimizer = torch.optim.AdamW(params, lr=lr_at(0), weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    history = History()
    best, best_state = math.inf, None
    started = time.perf_counter()
    if val is not None:  # the starting point: early stopping may keep it
        v, _ = evaluate(model, val[0], val[1])
        history.val_steps.append(0)
        history.val_loss.append(v)
        best, history.best_step = v, 0
        best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
    model.train()
    order = torch.randperm(len(y), generator=gen)
    cursor = 0
    for step in range(steps):
        if cursor + batch_size > len(y):
            order, cursor = torch.randperm(len(y), generator=gen), 0
        rows = order[cursor : cursor + batch_size]
        cursor += batch_size
        lr = float(lr_at(step))
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = F.cross_entropy(model(*_batch(cache, rows)), y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.train_loss.append(loss.item())
        history.lr.append(lr)
        if val is not None and ((step + 1) % eval_every == 0 or step == steps - 1):
            v, _ = evaluate(model, val[0], val[1])
            history.val_steps.append(step + 1)
            history.val_loss.append(v)
            if v < best:
                best, history.best_step = v, step + 1
                best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            if should_stop is not None and should_stop(list(history.val_loss)):
                history.stopped_at = step + 1
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history.seconds = time.perf_counter() - started
    return history


def count_parameters(model) -> dict:
    """``{"trainable": ..., "total": ...}``: parameters of a module (shared ones counted once)."""
    seen, total, trainable = set(), 0, 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return {"trainable": int(trainable), "total": int(total)}


# -- the small GPT's narrow task ----------------------------------------------------------------

SPECIES = ("Adelie", "Chinstrap", "Gentoo")


def penguin_pairs(seed: int = 0, test_fraction: float = 0.3):
    """``(train, test)`` lists of ``(prompt, answer)`` pairs from the Palmer penguins table.

    Each penguin with its three measurements known becomes one instruction:
    ``"bill 39 flipper 181 island Torgersen. species:"`` answered by
    ``" Adelie"``. The two rows without measurements are left out (342 of
    344 remain). The split is random, seeded and stratified by species.
    """
    import palmerpenguins
    from sklearn.model_selection import train_test_split

    if not 0 < test_fraction < 1:
        raise FinetuneError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    frame = palmerpenguins.load_penguins()
    frame = frame.dropna(subset=["bill_length_mm", "flipper_length_mm", "island", "species"])
    pairs = [
        (prompt_for(row.bill_length_mm, row.flipper_length_mm, row.island), " " + row.species)
        for row in frame.itertuples()
    ]
    species = [answer.strip() for _, answer in pairs]
    train, test = train_test_split(
        pairs, test_size=test_fraction, random_state=seed, stratify=species
    )
    return list(train), list(test)


def choice_logprobs(model, tokenizer, prompts: Sequence[str], choices: Sequence[str]) -> np.ndarray:
    """``log p(choice | prompt)`` for every prompt and choice, shape (prompts, choices).

    The batched version of the notebook's ``answer_logprob``: every
    prompt + choice sequence is right-padded into one batch and run once, in
    evaluation mode and without gradients (the model's mode is restored).
    """
    import torch

    prompts, choices = list(prompts), list(choices)
    if not prompts or not choices:
        raise FinetuneError("need at least one prompt and one choice")
    prompt_ids = [tokenizer(p).input_ids for p in prompts]
    choice_ids = [tokenizer(c).input_ids for c in choices]
    if any(not ids for ids in prompt_ids + choice_ids):
        raise FinetuneError("every prompt and choice must have at least one token")
    rows = [(p, c) for p in prompt_ids for c in choice_ids]
    width = max(len(p) + len(c) for p, c in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for i, (p, c) in enumerate(rows):
        ids[i, : len(p) + len(c)] = torch.tensor(p + c)
        mask[i, : len(p) + len(c)] = 1
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits.double(), -1)
    model.train(was_training)
    scores = np.zeros(len(rows))
    for i, (p, c) in enumerate(rows):
        positions = torch.arange(len(p) - 1, len(p) - 1 + len(c))
        scores[i] = float(logp[i, positions, torch.tensor(c)].sum())
    return scores.reshape(len(prompt_ids), len(choice_ids))


def prompt_for(bill_mm: float, flipper_mm: float, island: str) -> str:
    """The instruction for one penguin (measurements rounded to whole millimetres)."""
    return f"bill {round(bill_mm)} flipper {round(flipper_mm)} island {island}. species:"
