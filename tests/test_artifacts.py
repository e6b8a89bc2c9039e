"""The artifact folder mechanics the three services share (mlcourse.artifacts)."""

import json

import pytest

from mlcourse import artifacts
from mlcourse.artifacts import ArtifactError, Schema
from mlcourse.data import sha256_file

SCHEMA = Schema(1, ("toy",), ("schema_version", "kind", "model_file", "model_sha256"))


class Taken(Exception):
    pass


def _write(folder, model=b"weights"):
    with artifacts.staged(folder, force=True, error=Taken, advice="pick another") as tmp:
        (tmp / "model.bin").write_bytes(model)
        artifacts.write_metadata(
            tmp,
            {
                "schema_version": 1,
                "kind": "toy",
                "model_file": "model.bin",
                "model_sha256": sha256_file(tmp / "model.bin"),
            },
        )


def test_a_staged_artifact_appears_whole_and_reads_back(tmp_path):
    out = tmp_path / "art"
    _write(out)
    meta, path = artifacts.read_metadata(out, SCHEMA)
    assert meta["kind"] == "toy" and path == out / "metadata.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]  # no temporary folder left


def test_a_failed_write_leaves_the_old_artifact_and_no_debris(tmp_path):
    out = tmp_path / "art"
    _write(out, b"old")
    with pytest.raises(RuntimeError):
        with artifacts.staged(out, force=True, error=Taken, advice="x") as tmp:
            (tmp / "model.bin").write_bytes(b"half")
            raise RuntimeError("training crashed")
    assert (out / "model.bin").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_a_taken_folder_needs_force(tmp_path):
    out = tmp_path / "art"
    _write(out, b"old")
    with pytest.raises(Taken, match="already exists; pick another"):
        artifacts.check_target(out, force=False, error=Taken, advice="pick another")
    with pytest.raises(Taken, match="already exists"):
        with artifacts.staged(out, force=False, error=Taken, advice="pick another") as tmp:
            (tmp / "model.bin").write_bytes(b"new")
    assert (out / "model.bin").read_bytes() == b"old"
    (tmp_path / "empty").mkdir()
    assert artifacts.check_target(tmp_path / "empty", force=False, error=Taken, advice="") == (
        tmp_path / "empty"
    )
    _write(out, b"new")  # force swaps it
    assert (out / "model.bin").read_bytes() == b"new"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "metadata.json").unlink(), "is missing: not a model artifact"),
        (lambda d: (d / "metadata.json").write_text("{nope"), "not valid JSON"),
        (lambda d: (d / "metadata.json").write_text("[1]"), "must hold a JSON object"),
        (lambda d: _edit(d, kind="other"), "unknown model kind 'other' \\(known: toy\\)"),
        (lambda d: _edit(d, schema_version=2), "schema_version 2 is not supported"),
        (lambda d: _edit(d, model_file="../x"), "plain file name"),
        (lambda d: _edit(d, model_sha256="0" * 64), "sha256 mismatch"),
        (lambda d: (d / "model.bin").unlink(), "the artifact is incomplete"),
        (lambda d: _edit(d, drop="model_sha256"), "lacks model_sha256"),
    ],
)
def test_every_damage_is_a_clear_artifact_error(tmp_path, damage, message):
    out = tmp_path / "art"
    _write(out)
    damage(out)
    with pytest.raises(ArtifactError, match=message):
        artifacts.read_metadata(out, SCHEMA)


def test_a_missing_folder_says_train_one_first(tmp_path):
    with pytest.raises(ArtifactError, match="train one first"):
        artifacts.read_metadata(tmp_path / "nothing", SCHEMA)


def test_the_services_share_one_artifact_error():
    from mlcourse.recommender.model import ArtifactError as Movies
    from mlcourse.service.artifact import ArtifactError as Sentiment
    from mlcourse.vision.artifact import ArtifactError as Digits

    assert Movies is Sentiment is Digits is ArtifactError


def _edit(folder, drop=None, **changes):
    path = folder / "metadata.json"
    meta = json.loads(path.read_text())
    meta.update(changes)
    if drop:
        meta.pop(drop)
    path.write_text(json.dumps(meta))
