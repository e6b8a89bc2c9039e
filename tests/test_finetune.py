"""Tests of mlcourse.finetune: the split, the MiniLM state cache, the classifier and its loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlcourse import finetune as ft

TEXTS = [
    "Great food.",
    "The waiter ignored us for twenty minutes and then forgot our order.",
    "bad",
    "I would not recommend this phone to anyone, the battery dies within an hour of use.",
]


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("sentence_transformers")
    from mlcourse.embeddings import ModelError

    try:
        return ft.minilm()
    except ModelError as exc:  # pragma: no cover - the model package is part of the course
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def cache(minilm):
    bert, tokenizer = minilm
    return ft.cache_states(TEXTS, 5, bert=bert, tokenizer=tokenizer)


def test_split_matches_sentiment_analysis():
    train, test = ft.sentiment_split()
    assert (len(train), len(test)) == (2400, 600)
    assert set(train.index).isdisjoint(test.index)
    assert test["label"].mean() == pytest.approx(0.5)
    again_train, again_test = ft.sentiment_split()
    assert list(test.index) == list(again_test.index)


def test_cache_embeddings_match_encode(minilm, cache):
    from mlcourse import embeddings

    reference = embeddings.encode(TEXTS)
    assert cache.embeddings.shape == (4, 384)
    np.testing.assert_allclose(cache.embeddings, reference, atol=1e-5)
    assert cache.states.shape[0] == 4 and cache.states.shape[2] == 384
    assert int(cache.mask.sum(1).max()) == cache.states.shape[1]
    padded = cache.mask == 0
    assert torch.all(cache.states[padded] == 0)


def test_top_classifier_reproduces_the_encoder(minilm, cache):
    bert, _ = minilm
    top = ft.TopClassifier(bert, 5)
    with torch.no_grad():
        pooled = top.pooled(cache.states, cache.mask).numpy()
    np.testing.assert_allclose(pooled, cache.embeddings, atol=1e-5)
    before = {k: v.clone() for k, v in bert.encoder.layer[5].state_dict().items()}
    with torch.no_grad():
        next(top.layers.parameters()).add_(1.0)
    after = bert.encoder.layer[5].state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), "the encoder was changed"
    counts = ft.count_parameters(top)
    assert counts == {"trainable": counts["total"], "total": 1775234}


def test_cache_from_an_earlier_layer(minilm):
    bert, tokenizer = minilm
    early = ft.cache_states(TEXTS[:2], 3, bert=bert, tokenizer=tokenizer)
    top = ft.TopClassifier(bert, 3)
    with torch.no_grad():
        pooled = top.pooled(early.states, early.mask).numpy()
    np.testing.assert_allclose(pooled, early.embeddings, atol=1e-5)


def test_head_from_probe_gives_the_probe_probabilities(minilm, cache):
    from sklearn.linear_model import LogisticRegression

    bert, _ = minilm
    probe = LogisticRegression().fit(cache.embeddings, [1, 0, 0, 0])
    top = ft.TopClassifier(bert, 5)
    top.head_from_probe(probe)
    with torch.no_grad():
        probs = torch.softmax(top(cache.states, cache.mask), 1)[:, 1].numpy()
    np.testing.assert_allclose(probs, probe.predict_proba(cache.embeddings)[:, 1], atol=1e-5)
    three = LogisticRegression().fit(cache.embeddings, [0, 1, 2, 2])
    with pytest.raises(ft.FinetuneError, match="binary probe"):
        top.head_from_probe(three)


def test_train_classifier_learns_and_restores_the_best(minilm, cache):
    bert, _ = minilm
    labels = [1, 0, 0, 0]
    top = ft.TopClassifier(bert, 5, seed=1)
    loss0, _ = ft.evaluate(top, cache, labels)
    history = ft.train_classifier(
        top,
        cache,
        labels,
        steps=12,
        batch_size=4,
        lr_at=lambda s: 1e-3,
        val=(cache, labels),
        eval_every=4,
    )
    assert history.val_steps == [0, 4, 8, 12]
    assert len(history.train_loss) == 12 and history.lr == [1e-3] * 12
    best = min(history.val_loss)
    assert best < loss0
    assert ft.evaluate(top, cache, labels)[0] == pytest.approx(best, rel=1e-5)
    assert ft.accuracy(top, cache, labels) == 1.0
    assert not top.training


def test_train_classifier_stops_early_and_can_keep_the_start(minilm, cache):
    bert, _ = minilm
    labels = [1, 0, 0, 0]
    top = ft.TopClassifier(bert, 5, seed=1)
    start = {k: v.clone() for k, v in top.state_dict().items()}
    history = ft.train_classifier(
        top,
        cache,
        labels,
        steps=50,
        batch_size=4,
        lr_at=lambda s: 1.0,  # far too large
        val=(cache, labels),
        eval_every=1,
        should_stop=lambda losses: len(losses) >= 3,
    )
    assert history.stopped_at == 2
    if history.best_step == 0:
        assert all(torch.equal(start[k], v) for k, v in top.state_dict().items())


def test_train_classifier_rejects_bad_input(minilm, cache):
    bert, _ = minilm
    top = ft.TopClassifier(bert, 5)
    with pytest.raises(ft.FinetuneError, match="labels"):
        ft.train_classifier(top, cache, [0, 1], steps=1, lr_at=lambda s: 1e-3)
    with pytest.raises(ft.FinetuneError, match="steps"):
        ft.train_classifier(top, cache, [0, 1, 0, 1], steps=0, lr_at=lambda s: 1e-3)
    top.requires_grad_(False)
    with pytest.raises(ft.FinetuneError, match="trainable"):
        ft.train_classifier(top, cache, [0, 1, 0, 1], steps=1, lr_at=lambda s: 1e-3)
    with pytest.raises(ft.FinetuneError, match="labels"):
        ft.evaluate(top, cache, [0])


def test_bad_inputs_are_refused(minilm):
    bert, tokenizer = minilm
    with pytest.raises(ft.FinetuneError, match="no texts"):
        ft.cache_states([], bert=bert, tokenizer=tokenizer)
    with pytest.raises(ft.FinetuneError, match="string"):
        ft.cache_states(["fine", 3], bert=bert, tokenizer=tokenizer)
    with pytest.raises(ft.FinetuneError, match="layer"):
        ft.cache_states(["fine"], 7, bert=bert, tokenizer=tokenizer)
    with pytest.raises(ft.FinetuneError, match="layer"):
        ft.TopClassifier(bert, 6)
    with pytest.raises(ft.FinetuneError, match="batch, tokens"):
        ft.additive_mask(torch.ones(3))


def test_subset_keeps_rows_aligned(cache):
    part = cache.subset([2, 0])
    assert len(part) == 2
    np.testing.assert_array_equal(part.embeddings, cache.embeddings[[2, 0]])
    assert torch.equal(part.states, cache.states[[2, 0]])
    assert torch.equal(part.input_ids[1], cache.input_ids[0])


def test_count_parameters_counts_shared_weights_once():
    emb = torch.nn.Embedding(10, 4)
    head = torch.nn.Linear(4, 10, bias=False)
    head.weight = emb.weight  # tied, as in GPT-2
    model = torch.nn.ModuleDict({"emb": emb, "head": head})
    assert ft.count_parameters(model) == {"trainable": 40, "total": 40}
    emb.weight.requires_grad_(False)
    assert ft.count_parameters(model) == {"trainable": 0, "total": 40}


def test_penguin_pairs():
    train, test = ft.penguin_pairs()
    assert len(train) + len(test) == 342  # the two rows without measurements are left out
    assert len(test) == 103
    prompts = {p for p, _ in train} | {p for p, _ in test}
    assert all(p.endswith("species:") and p.startswith("bill ") for p in prompts)
    answers = {a for _, a in train + test}
    assert answers == {" Adelie", " Chinstrap", " Gentoo"}
    assert ft.penguin_pairs() == (train, test)
    assert ft.penguin_pairs(seed=1)[1] != test
    assert (
        ft.prompt_for(39.1, 181.0, "Torgersen") == "bill 39 flipper 181 island Torgersen. species:"
    )
    with pytest.raises(ft.FinetuneError, match="test_fraction"):
        ft.penguin_pairs(test_fraction=1.0)


def test_choice_logprobs_matches_one_sequence_at_a_time():
    from mlcourse.gpt import load

    model, tokenizer = load()
    model.train()
    prompts = [
        "bill 39 flipper 181 island Torgersen. species:",
        "bill 50 flipper 220 island Biscoe. species:",
    ]
    choices = [" " + s for s in ft.SPECIES]
    got = ft.choice_logprobs(model, tokenizer, prompts, choices)
    assert got.shape == (2, 3)
    assert model.training, "the mode was not restored"
    model.eval()
    for i, p in enumerate(prompts):
        for j, c in enumerate(choices):
            pi, ci = tokenizer(p).input_ids, tokenizer(c).input_ids
            with torch.no_grad():
                logp = torch.log_softmax(model(torch.tensor([pi + ci])).logits[0].double(), -1)
            want = sum(float(logp[len(pi) - 1 + k, a]) for k, a in enumerate(ci))
            assert got[i, j] == pytest.approx(want, abs=1e-4)
    with pytest.raises(ft.FinetuneError, match="at least one"):
        ft.choice_logprobs(model, tokenizer, [], choices)
