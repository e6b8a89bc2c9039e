"""mlcourse.gpt: the corpus, and the small GPT's build, cache, verification and loading.

Most tests use a tiny configuration (a few hundred parameters' worth of
training, under a second) to exercise the cache logic; one module-scoped build
of the real configuration checks what the notebooks rely on: it loads through
the Auto classes, generates offline, and beats the bigram baseline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from mlcourse import gpt
from mlcourse.gpt import build

REPO = Path(__file__).resolve().parent.parent

TINY = {
    **build.CONFIG,
    "vocab_size": 300,
    "n_positions": 32,
    "n_embd": 32,
    "n_layer": 1,
    "n_head": 2,
    "steps": 12,
    "batch_size": 4,
    "context": 32,
    "warmup": 3,
    "threads": 1,
}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty data cache, a private temporary folder, and the tiny configuration."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MLCOURSE_CACHE", str(folder))
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(private_tmp))
    monkeypatch.setattr(build, "CONFIG", dict(TINY))
    return folder


def _no_training(*args, **kwargs):
    raise AssertionError("the model was trained again")


# -- the corpus ---------------------------------------------------------------------------------


def test_corpus_is_deterministic_and_hashed():
    c = gpt.corpus()
    assert c.name == "python-docs-topics"
    import hashlib

    assert c.sha256 == hashlib.sha256(c.text.encode("utf-8")).hexdigest()
    gpt.corpus.cache_clear()
    again = gpt.corpus()
    assert again.sha256 == c.sha256 and again.is_val == c.is_val
    assert 300_000 < len(c.text) < 600_000  # the help topics of one Python version
    assert "assert" in c.text and "yield" in c.text


def test_corpus_splits_are_disjoint_and_about_a_tenth():
    c = gpt.corpus()
    assert len(c.paragraphs) == len(set(c.paragraphs)), "duplicate paragraphs were kept"
    held = [p for p, v in zip(c.paragraphs, c.is_val) if v]
    kept = [p for p, v in zip(c.paragraphs, c.is_val) if not v]
    assert set(held).isdisjoint(kept)
    assert 0.06 < len(c.val_text) / len(c.text) < 0.14
    assert c.train_text.count("\n\n") >= len(kept) - 1
    assert all(p in c.val_text for p in held[:20])


def test_documents_are_the_help_topics_and_overlap():
    docs = gpt.documents()
    assert list(docs) == sorted(docs) and len(docs) > 50
    assert docs["if"] == docs["else"]  # why the corpus deduplicates paragraphs
    assert sum(map(len, docs.values())) > len(gpt.corpus().text)


# -- keys, folders and verification --------------------------------------------------------------


def test_build_key_depends_on_config_corpus_and_code(monkeypatch):
    key = gpt.build_key(TINY)
    assert key == gpt.build_key(dict(TINY))
    assert key != gpt.build_key({**TINY, "steps": 13})
    assert key != gpt.build_key({**TINY, "seed": 1})
    monkeypatch.setattr(build, "BUILD_VERSION", build.BUILD_VERSION + 1)
    assert key != gpt.build_key(TINY)


def test_cache_folder_is_beside_the_data(cache):
    from mlcourse.data import cache_dir

    assert gpt.cache_folder().parent == cache_dir() / "gpt" == cache.resolve() / "gpt"
    assert gpt.cache_folder().name == "small-gpt-" + gpt.build_key()[:16]


def test_fresh_cache_builds_a_folder_the_auto_classes_load(cache, capsys):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = gpt.small_gpt()
    assert folder == gpt.cache_folder()
    assert "Training the course's small GPT" in capsys.readouterr().out
    for name in build.REQUIRED_FILES + (build.METADATA_FILE,):
        assert (folder / name).is_file(), name
    leftovers = [p.name for p in folder.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == [], "a temporary folder was left behind"
    meta = gpt.verify(folder, gpt.build_key())
    assert meta["config"] == TINY and meta["corpus"]["sha256"] == gpt.corpus().sha256
    assert len(meta["train_losses"]) == TINY["steps"]
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert type(model).__name__ == "GPT2LMHeadModel"
    assert model.config.vocab_size == len(tokenizer) == TINY["vocab_size"]
    text = 'The "with" statement — déjà vu ✓\n'
    assert tokenizer.decode(tokenizer(text).input_ids) == text
    assert tokenizer.eos_token == gpt.SPECIAL_TOKEN


def test_reuse_verifies_without_training(cache, monkeypatch, capsys):
    first = gpt.small_gpt()
    capsys.readouterr()
    monkeypatch.setattr(build, "train", _no_training)
    assert gpt.small_gpt() == first
    assert capsys.readouterr().out == ""  # nothing printed when reused


def test_rebuild_gives_identical_weights(cache):
    folder = gpt.small_gpt()
    before = gpt.metadata(folder)
    again = gpt.small_gpt(rebuild=True)
    after = gpt.metadata(again)
    assert again == folder
    assert after["weights_sha256"] == before["weights_sha256"]
    assert after["train_losses"] == before["train_losses"]
    assert after["files"] == before["files"]


def test_two_threads_are_deterministic_too(cache, monkeypatch):
    monkeypatch.setattr(build, "CONFIG", {**TINY, "threads": 2})
    first = gpt.metadata(gpt.small_gpt())
    second = gpt.metadata(gpt.small_gpt(rebuild=True))
    assert second["weights_sha256"] == first["weights_sha256"]


def test_training_restores_the_callers_random_state_and_threads(cache):
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    gpt.small_gpt()
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_corrupt_weights_are_detected_and_rebuilt(cache):
    folder = gpt.small_gpt()
    good = gpt.metadata(folder)["weights_sha256"]
    weights = folder / build.WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(gpt.GPTBuildError, match="sha256 mismatch"):
        gpt.verify(folder)
    assert gpt.small_gpt() == folder
    assert gpt.verify(folder)["weights_sha256"] == good
    assert build.sha256_file(weights) == good


@pytest.mark.parametrize("damage", ["delete tokenizer", "bad metadata", "truncate config"])
def test_damaged_folders_are_rebuilt(cache, damage):
    folder = gpt.small_gpt()
    if damage == "delete tokenizer":
        (folder / "tokenizer.json").unlink()
    elif damage == "bad metadata":
        (folder / build.METADATA_FILE).write_text("{not json", encoding="utf-8")
    else:
        (folder / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(gpt.GPTBuildError):
        gpt.verify(folder)
    assert gpt.small_gpt() == folder
    gpt.verify(folder, gpt.build_key())


def test_a_build_finished_meanwhile_by_another_process_is_kept(cache):
    folder = gpt.small_gpt()
    weights = folder / build.WEIGHTS_FILE
    before = weights.stat().st_mtime_ns
    # A second build of the same key arrives at a verified folder: it keeps that one.
    assert build._build_into(folder, gpt.build_key(), dict(TINY), progress=False) == folder
    assert weights.stat().st_mtime_ns == before
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == []
    # An explicit rebuild replaces it.
    build._build_into(folder, gpt.build_key(), dict(TINY), progress=False, replace=True)
    assert weights.stat().st_mtime_ns != before
    gpt.verify(folder, gpt.build_key())


def test_verify_refuses_another_key(cache):
    folder = gpt.small_gpt()
    with pytest.raises(gpt.GPTBuildError, match="another key"):
        gpt.verify(folder, "0" * 64)


def test_a_new_config_builds_a_new_folder(cache, monkeypatch):
    first = gpt.small_gpt()
    monkeypatch.setattr(build, "CONFIG", {**TINY, "steps": 5})
    second = gpt.small_gpt()
    assert second != first and second.parent == first.parent
    assert gpt.metadata(second)["config"]["steps"] == 5


def test_explicit_path_is_used(cache, tmp_path):
    folder = gpt.small_gpt(tmp_path / "mine" / "gpt")
    assert folder == tmp_path / "mine" / "gpt"
    gpt.verify(folder, gpt.build_key())
    assert not gpt.cache_folder().exists()


def test_unwritable_cache_falls_back_to_a_temporary_folder(cache, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MLCOURSE_CACHE", str(blocker / "cache"))  # mkdir fails, even as root
    folder = gpt.small_gpt()
    assert folder == gpt.fallback_folder()
    assert str(folder).startswith(str(tmp_path / "tmp"))
    gpt.verify(folder, gpt.build_key())
    monkeypatch.setattr(build, "train", _no_training)
    assert gpt.small_gpt() == folder  # the fallback is reused


def test_no_writable_folder_is_a_clear_error(cache, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MLCOURSE_CACHE", str(blocker / "cache"))
    monkeypatch.setattr("tempfile.tempdir", str(blocker / "tmp"))
    with pytest.raises(gpt.GPTBuildError, match="no writable folder.*MLCOURSE_CACHE"):
        gpt.small_gpt()


def test_generation_works_offline(cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    model, tokenizer = gpt.load()
    assert not model.training
    prompt = tokenizer("The for statement", return_tensors="pt")
    out = model.generate(
        **prompt,
        max_new_tokens=8,
        do_sample=True,
        top_k=20,
        temperature=0.8,
        pad_token_id=tokenizer.eos_token_id,
    )
    assert out.shape == (1, prompt.input_ids.shape[1] + 8)
    assert tokenizer.decode(out[0]).startswith("The for statement")


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size():
    class Uniform(torch.nn.Module):
        class config:  # noqa: N801 - mimics a Hugging Face config
            n_positions = 7

        def forward(self, input_ids):  # positional, as a Hugging Face model accepts it
            logits = torch.zeros(*input_ids.shape, 11)
            return type("Out", (), {"logits": logits})()

    ids = np.arange(40) % 11
    assert gpt.perplexity(Uniform(), ids) == pytest.approx(11.0)
    assert gpt.perplexity(Uniform(), ids, context=5, batch_size=2) == pytest.approx(11.0)
    with pytest.raises(ValueError):
        gpt.perplexity(Uniform(), ids[:1])


def test_perplexity_of_a_module_returning_logits():
    """A plain module (the notebook's TinyGPT) returns the logits themselves and has no config."""

    class Bigram(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.table = torch.nn.Embedding(3, 3)
            with torch.no_grad():
                self.table.weight.copy_(torch.log(torch.tensor([[0.1, 0.8, 0.1]] * 3)))

        def forward(self, ids):
            return self.table(ids)

    ids = np.array([0, 1, 1, 1, 1, 1, 1, 1, 1])  # every next token is 1: probability 0.8
    model = Bigram().train()
    assert gpt.perplexity(model, ids, context=4) == pytest.approx(1 / 0.8)
    assert model.training  # the mode is restored


# -- the grader's sandbox: a read-only cache ----------------------------------------------------

_SANDBOX_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from mlcourse.gpt import build
    from mlcourse import gpt
    build.CONFIG = json.loads(os.environ["TINY_CONFIG"])
    if os.environ.get("NO_TRAINING"):
        def _fail(*a, **k):
            raise SystemExit("trained again")
        build.train = _fail
    folder = gpt.small_gpt(progress=False)
    model, tokenizer = gpt.load(folder)
    ids = tokenizer("The while statement", return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=5, do_sample=False,
                         pad_token_id=tokenizer.eos_token_id)
    print(json.dumps({"folder": str(folder), "tokens": out.shape[1]}))
    """
)


def _bwrap() -> str | None:
    exe = shutil.which("bwrap")
    if exe is None:
        return None
    probe = subprocess.run(
        [exe, "--ro-bind", "/", "/", "--unshare-net", "--die-with-parent", "true"],
        capture_output=True,
    )
    return exe if probe.returncode == 0 else None


def _in_sandbox(cache_folder: Path, env: dict) -> dict:
    exe = _bwrap()
    if exe is None:
        pytest.skip("bubblewrap cannot run here")
    cmd = [
        exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
        # the venv and the checkout stay visible even when they live under /tmp
        "--ro-bind", sys.prefix, sys.prefix, "--ro-bind", str(REPO), str(REPO),
        "--ro-bind", str(cache_folder), str(cache_folder), "--unshare-net", "--die-with-parent",
        "--", sys.executable, "-c", _SANDBOX_SCRIPT,
    ]  # fmt: skip
    full_env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "MLCOURSE_CACHE": str(cache_folder),
        "TMPDIR": "/tmp",
        "HOME": "/tmp",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TINY_CONFIG": json.dumps(TINY),
        **env,
    }
    done = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_read_only_cache_with_a_model_is_used_as_it_is(cache):
    folder = gpt.small_gpt()
    got = _in_sandbox(cache.resolve(), {"NO_TRAINING": "1"})
    assert got["folder"] == str(folder)
    assert got["tokens"] > 5


def test_read_only_cache_with_a_corrupt_model_rebuilds_in_tmp(cache):
    folder = gpt.small_gpt()
    (folder / build.WEIGHTS_FILE).write_bytes(b"garbage")
    got = _in_sandbox(cache.resolve(), {})
    assert got["folder"].startswith("/tmp/mlcourse-gpt-")
    assert got["tokens"] > 5
    assert (folder / build.WEIGHTS_FILE).read_bytes() == b"garbage"  # the cache was not touched


def test_read_only_empty_cache_builds_in_tmp(cache):
    cache.mkdir(parents=True)
    got = _in_sandbox(cache.resolve(), {})
    assert got["folder"].startswith("/tmp/mlcourse-gpt-")
    assert not (cache / "gpt").exists()


# -- the real configuration ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_model(tmp_path_factory):
    folder = gpt.small_gpt(tmp_path_factory.mktemp("real") / "small-gpt", progress=False)
    return folder, gpt.metadata(folder)


def test_real_model_size_and_budget(real_model):
    _, meta = real_model
    assert meta["config"] == build.CONFIG
    assert 300_000 <= meta["parameters"] <= 2_000_000
    assert meta["train_seconds"] < 300  # generous: shared machines are slow; about 10 s when quiet


def test_real_model_clearly_beats_the_bigram_baseline(real_model):
    _, meta = real_model
    assert meta["val_perplexity"] < 0.85 * meta["bigram_val_perplexity"]
    assert meta["train_losses"][-1] < meta["train_losses"][0] - 2.0


def test_real_model_reloads_to_the_recorded_perplexity(real_model):
    folder, meta = real_model
    model, tokenizer = gpt.load(folder)
    _, val_ids = gpt.encode_splits(tokenizer)
    assert len(val_ids) == meta["val_tokens"]
    assert gpt.encode_splits(folder)[1].tolist() == val_ids.tolist()
    ppl = gpt.perplexity(model, val_ids, meta["config"]["context"])
    assert ppl == pytest.approx(meta["val_perplexity"], rel=1e-4)


def test_real_model_generates_offline(real_model, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder, _ = real_model
    model, tokenizer = gpt.load(folder)
    prompt = tokenizer("The if statement is used for", return_tensors="pt")
    torch.manual_seed(0)
    out = model.generate(
        **prompt,
        max_new_tokens=40,
        do_sample=True,
        top_k=30,
        temperature=0.8,
        pad_token_id=tokenizer.eos_token_id,
    )
    text = tokenizer.decode(out[0][prompt.input_ids.shape[1] :])
    assert len(text) > 40
    greedy = model.generate(
        **prompt, max_new_tokens=20, do_sample=False, pad_token_id=tokenizer.eos_token_id
    )
    nocache = model.generate(
        **prompt,
        max_new_tokens=20,
        do_sample=False,
        use_cache=False,
        pad_token_id=tokenizer.eos_token_id,
    )
    assert torch.equal(greedy, nocache)  # the KV cache changes the speed, not the text
