"""Tests for the digits web app (mlcourse.vision).

One artifact is trained per session (about 5 s on a quiet machine) into a
temporary folder. The network, augmentation and calibration tools are tested
against independent computations; the upload preprocessing on real test
digits, drawings and broken files; the app in process with FastAPI's
TestClient (every error is a 4xx JSON answer with a request id, never a 500),
then served for real by ``python -m mlcourse.vision serve``. The browser test
is ``tests/test_vision_browser.py``.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from mlcourse.vision import MAX_BODY_BYTES, MAX_PIXELS, MODEL_DIR_ENV
from mlcourse.vision import model as vm
from mlcourse.vision.app import access_logger, create_app, media_type_of
from mlcourse.vision.artifact import (
    METADATA_FILE,
    MODEL_FILE,
    ArtifactError,
    load_classifier,
    read_metadata,
)
from mlcourse.vision.cli import vision
from mlcourse.vision.page import CSP, PAGE, SCRIPT, STYLE
from mlcourse.vision.preprocess import ImageError, preprocess_image, to_digit, to_png
from mlcourse.vision.train import (
    TrainError,
    calibration_metrics,
    digits_checksum,
    fit,
    load_split,
    logits_of,
    train,
    write_artifact,
)

REPO = Path(__file__).resolve().parents[1]


# -- fixtures --------------------------------------------------------------------


@pytest.fixture(scope="session")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vision") / "digits"
    train(out)
    return out


@pytest.fixture(scope="session")
def split():
    return load_split()


@pytest.fixture
def client(artifact: Path):
    with TestClient(create_app(artifact), raise_server_exceptions=False) as c:
        yield c


def _copy(artifact: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(artifact, target)
    return target


def _png(array: np.ndarray, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def drawing(strokes, size: int = 280, width: int | None = None, fmt: str = "PNG") -> bytes:
    """Black strokes on white, as the page draws them (pen: a ninth of the canvas)."""
    picture = Image.new("RGB", (size, size), "white")
    pen = ImageDraw.Draw(picture)
    for points in strokes:
        pen.line(
            [(x * size, y * size) for x, y in points],
            fill="black",
            width=width or round(size / 9),
            joint="curve",
        )
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt)
    return buffer.getvalue()


ONE = [[(0.5, 0.15), (0.5, 0.85)]]
ZERO = [
    [
        (0.5 + 0.22 * math.sin(2 * math.pi * k / 40), 0.5 - 0.34 * math.cos(2 * math.pi * k / 40))
        for k in range(41)
    ]
]
FOUR = [[(0.6, 0.85), (0.6, 0.15), (0.25, 0.6), (0.75, 0.6)]]


# -- the network and its augmentation ---------------------------------------------


def test_residual_block_shapes_and_shortcuts():
    same = vm.ResidualBlock(8, 8)
    assert isinstance(same.shortcut, torch.nn.Identity)
    down = vm.ResidualBlock(8, 16, stride=2)
    assert isinstance(down.shortcut, torch.nn.Sequential)
    x = torch.randn(3, 8, 8, 8)
    assert same(x).shape == (3, 8, 8, 8)
    assert down(x).shape == (3, 16, 4, 4)
    assert (down(x) >= 0).all()  # a ReLU after the sum


def test_residual_block_adds_its_input():
    block = vm.ResidualBlock(4, 4).eval()
    with torch.no_grad():
        block.bn2.weight.zero_()  # the residual branch gives bn2's bias only
        block.bn2.bias.zero_()
    x = torch.randn(2, 4, 5, 5)
    assert torch.allclose(block(x), torch.relu(x))


def test_resnet_outputs_and_size():
    net = vm.DigitsResNet(16)
    assert net(torch.zeros(5, 1, 8, 8)).shape == (5, 10)
    assert net.features(torch.zeros(2, 1, 8, 8)).shape == (2, 32, 4, 4)
    assert 15_000 < sum(p.numel() for p in net.parameters()) < 25_000


def test_to_tensor_scales_and_refuses_bad_shapes():
    x = vm.to_tensor(np.full((2, 8, 8), 16))
    assert x.dtype == torch.float32 and x.shape == (2, 1, 8, 8) and float(x.max()) == 1.0
    assert vm.to_tensor(np.zeros((8, 8))).shape == (1, 1, 8, 8)
    with pytest.raises(ValueError):
        vm.to_tensor(np.zeros((2, 2, 8, 8)))


def test_random_affine_identity_and_determinism():
    x = torch.rand(6, 1, 8, 8)
    same = vm.random_affine(x, torch.Generator().manual_seed(1), 0.0, (1.0, 1.0), 0.0)
    assert torch.allclose(same, x, atol=1e-5)
    a = vm.random_affine(x, torch.Generator().manual_seed(2))
    b = vm.random_affine(x, torch.Generator().manual_seed(2))
    c = vm.random_affine(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == x.shape and float(a.min()) >= 0.0


def test_random_affine_shift_moves_by_whole_pixels():
    from scipy import ndimage

    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 2:5, 3] = 1.0

    gen = torch.Generator().manual_seed(0)
    draw = torch.rand(1, 4, generator=torch.Generator().manual_seed(0))
    out = vm.random_affine(x, gen, 0.0, (1.0, 1.0), 1.0)
    dx = (2 * draw[0, 2] - 1).item()
    dy = (2 * draw[0, 3] - 1).item()
    want = ndimage.shift(x[0, 0].numpy(), (dy, dx), order=1, mode="grid-constant")
    assert np.allclose(out[0, 0].numpy(), want, atol=1e-5)


def test_fit_is_seeded(split):
    small = split.train_images[:200], split.train_labels[:200]
    a = fit(*small, epochs=1, seed=4)
    b = fit(*small, epochs=1, seed=4)
    c = fit(*small, epochs=1, seed=5)
    x = split.test_images[:20]
    assert np.array_equal(logits_of(a, x), logits_of(b, x))
    assert not np.array_equal(logits_of(a, x), logits_of(c, x))
    with pytest.raises(TrainError):
        fit(*small, epochs=0)


# -- calibration --------------------------------------------------------------------


def test_softmax_is_stable():
    p = vm.softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    assert np.allclose(p, [[0.5, 0.5, 0.0]])
    assert np.allclose(vm.softmax(np.array([[0.0, math.log(3)]]), 1.0), [[0.25, 0.75]])


def test_ece_by_hand():
    # confidences 0.9 (right), 0.9 (wrong), 0.6 (right), 0.6 (right)
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]])
    labels = np.array([0, 1, 1, 1])
    assert vm.expected_calibration_error(probs, labels, 10) == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)
    table = vm.reliability_table(probs, labels, 10)
    assert table["count"].tolist() == [0, 0, 0, 0, 0, 2, 0, 0, 2, 0]
    assert np.isnan(table["accuracy"][0])


def test_ece_bins_are_closed_on_the_right():
    probs = np.array([[0.5, 0.5], [0.75, 0.25]])
    table = vm.reliability_table(probs, np.array([0, 0]), 4)
    assert table["count"].tolist() == [0, 1, 1, 0]  # 0.5 in (0.25, 0.5], 0.75 in (0.5, 0.75]


def test_ece_zero_when_calibrated_and_refuses_empty():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1.0, 200_000)
    labels = (rng.uniform(size=conf.size) >= conf).astype(int)  # right with probability conf
    probs = np.column_stack([conf, 1 - conf])
    assert vm.expected_calibration_error(probs, labels, 10) < 0.01
    with pytest.raises(ValueError):
        vm.expected_calibration_error(np.zeros((0, 3)), np.zeros(0), 10)


def test_temperature_nll_matches_log_loss():
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(1)
    logits = rng.normal(size=(50, 4)) * 3
    labels = rng.integers(0, 4, 50)
    for t in (0.5, 1.0, 2.5):
        want = log_loss(labels, vm.softmax(logits, t), labels=range(4))
        assert vm.temperature_nll(logits, labels, t) == pytest.approx(want, rel=1e-9)
    assert math.isfinite(vm.temperature_nll(np.array([[1e4, 0.0]]), np.array([1]), 1.0))
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError):
            vm.temperature_nll(logits, labels, bad)


def test_fit_temperature_recovers_a_known_temperature():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(20_000, 5)) * 2
    labels = np.array([rng.choice(5, p=p) for p in vm.softmax(z)])
    # logits that are 2.5 times too sharp: the fitted temperature undoes it
    assert vm.fit_temperature(2.5 * z, labels) == pytest.approx(2.5, rel=0.03)
    right = np.array([[0.5, 0.0], [0.0, 0.5]])  # a small margin: the NLL is not flat
    assert vm.fit_temperature(right, np.array([0, 1])) == pytest.approx(vm.T_MIN, rel=1e-3)
    assert vm.fit_temperature(right, np.array([1, 0])) == pytest.approx(vm.T_MAX, rel=1e-3)


def test_calibration_metrics_keep_accuracy():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(300, 10)) * 4
    labels = logits.argmax(1)
    labels[::4] = rng.integers(0, 10, 75)  # a quarter of the labels at random, in both halves
    m = calibration_metrics(logits[:150], labels[:150], logits[150:], labels[150:])
    assert m["accuracy"] == pytest.approx(np.mean(logits[150:].argmax(1) == labels[150:]), abs=1e-4)
    assert m["nll_after"] <= m["nll_before"] + 1e-3
    assert m["temperature"] > 1.0  # random wrong labels: overconfident logits


# -- preprocessing -------------------------------------------------------------------


def test_preprocess_recovers_upscaled_test_digits(split):
    """A test digit, enlarged and drawn dark on white, comes back as itself after the crop."""
    for image in split.test_images[:50]:
        got = preprocess_image(to_png(image, scale=12, invert=True))
        rows = np.flatnonzero(image.max(1) > 16 * 0.2)
        cols = np.flatnonzero(image.max(0) > 16 * 0.2)
        box = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        if box.shape == (8, 8):
            assert np.allclose(got, 16 * box / box.max(), atol=0.1)
        assert got.shape == (8, 8) and got.max() == pytest.approx(16.0)


def test_preprocess_crops_pads_and_inverts():
    pattern = np.zeros((8, 8))
    pattern[0, :] = pattern[:, 0] = pattern[-1, :] = pattern[:, -1] = 16.0
    pattern[3:5, 3:5] = 8.0
    big = np.kron(pattern, np.ones((10, 10)))
    canvas = np.zeros((300, 200))
    canvas[37:117, 51:131] = big  # somewhere off-centre
    light = _png((255 - canvas / 16 * 255).astype(np.uint8))
    dark = _png((canvas / 16 * 255).astype(np.uint8))
    for data in (light, dark):
        assert np.allclose(preprocess_image(data), pattern, atol=0.07)
    # a box twice as wide as tall is centred vertically in a square
    wide = np.zeros((40, 80))
    wide[:, :] = 1.0
    got = to_digit(1.0 - np.pad(wide, 10))  # on white
    assert np.allclose(got[2:6], 16.0) and np.allclose(got[[0, 1, 6, 7]], 0.0)


def test_preprocess_alpha_palette_sixteen_bit_and_jpeg(split):
    digit = split.test_images[0]
    ink = np.kron(digit / 16.0, np.ones((10, 10)))
    want = preprocess_image(to_png(digit, scale=10, invert=True))
    rgba = np.zeros((80, 80, 4), dtype=np.uint8)
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)  # black ink, transparent paper
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    assert np.allclose(preprocess_image(buffer.getvalue()), want, atol=0.3)
    sixteen = io.BytesIO()
    Image.fromarray(np.round(ink * 65535).astype(np.uint16)).save(sixteen, format="PNG")
    assert np.allclose(preprocess_image(sixteen.getvalue()), want, atol=0.3)
    palette = io.BytesIO()
    Image.fromarray(np.round((1 - ink) * 255).astype(np.uint8)).convert("P").save(
        palette, format="PNG"
    )
    assert np.allclose(preprocess_image(palette.getvalue()), want, atol=0.3)
    jpeg = io.BytesIO()
    Image.fromarray(np.round((1 - ink) * 255).astype(np.uint8)).save(
        jpeg, format="JPEG", quality=90
    )
    assert np.abs(preprocess_image(jpeg.getvalue(), "image/jpeg") - want).max() < 1.5


def test_preprocess_applies_exif_rotation():
    picture = Image.new("L", (120, 60), 255)
    ImageDraw.Draw(picture).line([(10, 30), (110, 30)], fill=0, width=12)  # a horizontal bar
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", exif=exif.tobytes())
    got = preprocess_image(buffer.getvalue())
    assert got[:, 3:5].mean() > 10 and got[:, :2].max() < 1  # shown upright: a vertical bar


@pytest.mark.parametrize(
    ("data", "media_type", "status", "words"),
    [
        (b"", "image/png", 400, "empty"),
        (b"hello, world", "image/png", 400, "not a PNG"),
        (b"hello, world", None, 415, "PNG or JPEG"),
        (b"GIF89a" + bytes(40), None, 415, "PNG or JPEG"),
        (b"\x89PNG\r\n\x1a\n" + bytes(30), "image/png", 400, "cannot be decoded"),
        (b"\xff\xd8\xff\xe0" + bytes(30), "image/jpeg", 400, "cannot be decoded"),
    ],
)
def test_preprocess_refuses_broken_uploads(data, media_type, status, words):
    with pytest.raises(ImageError) as info:
        preprocess_image(data, media_type)
    assert info.value.status == status and words in str(info.value)


def test_preprocess_refuses_truncated_mismatched_blank_and_huge():
    png = drawing(ONE)
    for data, media_type, status in [
        (png[: len(png) // 2], "image/png", 400),
        (png, "image/jpeg", 415),
        (_png(np.full((50, 50), 255, dtype=np.uint8)), "image/png", 422),
        (_png(np.full((50, 50), 30, dtype=np.uint8)), "image/png", 422),  # dark but flat: no ink
    ]:
        with pytest.raises(ImageError) as info:
            preprocess_image(data, media_type)
        assert info.value.status == status
    side = int(math.isqrt(MAX_PIXELS)) + 1
    huge = io.BytesIO()
    Image.new("1", (side, side), 1).save(huge, format="PNG")  # small file, too many pixels
    started = time.perf_counter()
    with pytest.raises(ImageError) as info:
        preprocess_image(huge.getvalue(), "image/png")
    assert info.value.status == 422 and "pixels" in str(info.value)
    assert time.perf_counter() - started < 2.0  # refused before decoding
    with pytest.raises(ImageError):
        preprocess_image("not bytes")  # type: ignore[arg-type]


# -- artifacts ------------------------------------------------------------------------


def test_artifact_layout_and_metadata(artifact: Path, split):
    assert sorted(p.name for p in artifact.iterdir()) == [METADATA_FILE, MODEL_FILE]
    meta = read_metadata(artifact)
    assert meta["kind"] == "digits-resnet" and meta["version"].startswith("digits-resnet-")
    assert meta["version"].endswith(meta["model_sha256"][:8])
    m = meta["metrics"]
    assert m["accuracy"] >= 0.97 and m["n_test"] == len(split.test_labels)
    assert 0 <= m["ece_after"] <= m["ece_before"] + 0.01
    assert m["nll_after"] <= m["nll_before"] + 1e-4
    assert meta["temperature"] == pytest.approx(m["temperature"])
    from sklearn.datasets import load_digits

    data = load_digits()
    assert meta["data"]["checksum"] == digits_checksum(data.images, data.target)
    assert meta["data"]["split"]["n_train"] + meta["data"]["split"]["n_calibration"] + m[
        "n_test"
    ] == len(data.target)


def test_split_is_fixed_and_disjoint(split):
    again = load_split()
    assert np.array_equal(split.test_images, again.test_images)
    sizes = len(split.train_labels), len(split.cal_labels), len(split.test_labels)
    assert sum(sizes) == 1797 and sizes == (1077, 360, 360)
    assert np.bincount(split.test_labels).min() >= 35  # stratified


def test_classifier_reproduces_the_recorded_accuracy(artifact: Path, split):
    classifier = load_classifier(artifact)
    probs = classifier.predict_proba(split.test_images)
    accuracy = np.mean(probs.argmax(1) == split.test_labels)
    assert accuracy == pytest.approx(classifier.metadata["metrics"]["accuracy"], abs=1e-4)
    assert np.allclose(probs.sum(1), 1.0)
    with pytest.raises(ValueError):
        classifier.predict_proba(np.zeros((2, 9, 9)))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: (d / MODEL_FILE).write_bytes(b"corrupt"), "sha256 mismatch"),
        (lambda d: (d / MODEL_FILE).unlink(), "missing"),
        (lambda d: (d / METADATA_FILE).unlink(), "missing"),
        (lambda d: (d / METADATA_FILE).write_text("{not json"), "not valid JSON"),
        (lambda d: (d / METADATA_FILE).write_text("[]"), "JSON object"),
    ],
)
def test_broken_artifacts_are_refused(artifact, tmp_path, change, words):
    target = _copy(artifact, tmp_path)
    change(target)
    with pytest.raises(ArtifactError, match=words):
        load_classifier(target)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("schema_version", 99, "schema_version"),
        ("kind", "tfidf", "kind"),
        ("temperature", -1.0, "temperature"),
        ("temperature", True, "temperature"),
        ("classes", [0, 1], "classes"),
        ("architecture", {"width": 0}, "width"),
        ("architecture", {"width": 8}, "does not fit"),
        ("model_file", "../model.pt", "plain file name"),
        ("version", None, None),
    ],
)
def test_inconsistent_metadata_is_refused(artifact, tmp_path, key, value, words):
    target = _copy(artifact, tmp_path)
    meta = json.loads((target / METADATA_FILE).read_text())
    if value is None:
        del meta[key]
        words = f"lacks {key}"
    else:
        meta[key] = value
    (target / METADATA_FILE).write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=words):
        load_classifier(target)


def test_untrained_weights_fail_the_smoke_test(artifact, tmp_path, split):
    torch.manual_seed(0)
    meta = write_artifact(tmp_path / "random", vm.DigitsResNet(16), 1.0, {"accuracy": 0.1})
    assert meta["model_sha256"]
    with pytest.raises(ArtifactError, match="smoke test"):
        load_classifier(tmp_path / "random")


def test_artifact_writes_are_atomic_and_refuse_to_overwrite(artifact, tmp_path):
    net = load_classifier(artifact).model
    out = tmp_path / "model"
    write_artifact(out, net, 0.7, {})
    first = read_metadata(out)["model_sha256"]
    with pytest.raises(TrainError, match="already exists"):
        write_artifact(out, net, 0.7, {})
    write_artifact(out, net, 0.8, {}, force=True)
    assert read_metadata(out)["temperature"] == 0.8
    assert read_metadata(out)["model_sha256"] == first  # same weights, same bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary left behind


# -- the app --------------------------------------------------------------------------


def _predict(client, body: bytes, content_type: str | None = "image/png", **headers):
    if content_type is not None:
        headers["content-type"] = content_type
    return client.post("/predict", content=body, headers=headers)


def test_health_model_and_page(client, artifact):
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["ready"] is True
    meta = client.get("/model").json()
    assert meta == read_metadata(artifact)
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CSP
    for element in ('id="pad"', 'id="predict"', 'id="clear"', 'id="upload"', 'id="probs"'):
        assert element in page.text
    assert "http://" not in PAGE and "https://" not in PAGE  # no CDN, nothing external


def test_page_csp_allows_exactly_its_script_and_style():
    import base64
    import hashlib

    assert f"<script>{SCRIPT}</script>" in PAGE and f"<style>{STYLE}</style>" in PAGE
    for text in (SCRIPT, STYLE):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in CSP
    assert "unsafe-inline" not in CSP and "default-src 'none'" in CSP


def test_predict_test_digits(client, split):
    right = 0
    for image, label in zip(split.test_images, split.test_labels):
        response = _predict(client, to_png(image, scale=10, invert=True))
        assert response.status_code == 200
        right += response.json()["label"] == label
    assert right / len(split.test_labels) >= 0.97


def test_predict_answer_format(client, artifact, split):
    response = _predict(client, to_png(split.test_images[0], scale=10, invert=True))
    body = response.json()
    assert set(body) == {"label", "confidence", "probabilities", "input", "model_version"}
    assert type(body["label"]) is int and 0 <= body["label"] <= 9
    assert len(body["probabilities"]) == 10 and math.isclose(
        sum(body["probabilities"]), 1.0, abs_tol=1e-6
    )
    assert body["confidence"] == max(body["probabilities"])
    assert body["probabilities"].index(body["confidence"]) == body["label"]
    assert np.array(body["input"]).shape == (8, 8)
    assert body["model_version"] == read_metadata(artifact)["version"]
    assert len(response.headers["x-request-id"]) == 32


@pytest.mark.parametrize(("strokes", "digit"), [(ONE, 1), (ZERO, 0), (FOUR, 4)])
def test_drawings_like_the_page_are_recognised(client, strokes, digit):
    for fmt, media_type in (("PNG", "image/png"), ("JPEG", "image/jpeg")):
        response = _predict(client, drawing(strokes, fmt=fmt), media_type)
        assert response.status_code == 200
        assert response.json()["label"] == digit, response.json()["probabilities"]


def test_a_large_photo_sized_upload_works(client):
    response = _predict(client, drawing(ONE, size=1600, fmt="JPEG"), "image/jpeg")
    assert response.status_code == 200 and response.json()["label"] == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (None, "image/gif", 415),
        (None, None, 415),
        (None, "text/plain", 415),
        (None, "application/json", 415),
        (None, "multipart/form-data; boundary=x", 415),
        (None, "image/jpeg", 415),  # PNG bytes declared as JPEG
        (b"", "image/png", 400),
        (b"not an image", "image/png", 400),
        (b"not an image", "image/jpeg", 400),
        ("truncated", "image/png", 400),
        ("blank", "image/png", 422),
        ("huge", "image/png", 422),
    ],
)
def test_bad_uploads_get_clear_4xx(client, body, content_type, status):
    png = drawing(ONE)
    if body is None:
        body = png
    elif body == "truncated":
        body = png[:200]
    elif body == "blank":
        body = _png(np.full((64, 64), 255, dtype=np.uint8))
    elif body == "huge":
        side = int(math.isqrt(MAX_PIXELS)) + 1
        buffer = io.BytesIO()
        Image.new("1", (side, side), 1).save(buffer, format="PNG")
        body = buffer.getvalue()
    response = _predict(client, body, content_type, **{"x-request-id": "req-42"})
    assert response.status_code == status, response.text
    answer = response.json()
    assert isinstance(answer["detail"], str) and len(answer["detail"]) > 10
    assert answer["request_id"] == "req-42" == response.headers["x-request-id"]


def test_content_type_is_read_leniently():
    assert media_type_of("IMAGE/PNG; charset=binary") == "image/png"
    assert media_type_of(" image/jpeg ") == "image/jpeg"
    assert media_type_of("") is None and media_type_of(None) is None


def test_uppercase_media_type_is_accepted(client):
    assert _predict(client, drawing(ONE), "IMAGE/PNG").status_code == 200


def test_too_large_bodies_get_413(client):
    big = b"\x89PNG\r\n\x1a\n" + bytes(MAX_BODY_BYTES)
    response = _predict(client, big)
    assert response.status_code == 413 and "larger than" in response.json()["detail"]

    def chunks():  # no Content-Length: refused while streaming
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield bytes(65536)

    streamed = client.post("/predict", content=chunks(), headers={"content-type": "image/png"})
    assert streamed.status_code == 413
    exact = _predict(client, b"\x89PNG\r\n\x1a\n" + bytes(MAX_BODY_BYTES - 8))
    assert exact.status_code == 400  # at the limit: read, then found not to decode
    bad_length = client.post(
        "/predict", content=b"x", headers={"content-type": "image/png", "content-length": "x1"}
    )
    assert bad_length.status_code == 400


def test_other_routes_are_json_4xx(client):
    for method, url, status in [
        ("GET", "/nope", 404),
        ("GET", "/predict", 405),
        ("DELETE", "/", 405),
    ]:
        response = client.request(method, url)
        assert response.status_code == status
        assert response.json()["request_id"] == response.headers["x-request-id"]


def test_random_bodies_never_give_500(client):
    rng = np.random.default_rng(0)
    png = drawing(ZERO)
    bodies = [bytes(rng.integers(0, 256, n, dtype=np.uint8)) for n in (1, 7, 100, 5000)]
    for cut in (8, 16, 33, 100, len(png) // 2):  # (a cut inside IEND still decodes)
        bodies.append(png[:cut])
    bodies.append(b"\xff\xd8\xff" + bytes(rng.integers(0, 256, 500, dtype=np.uint8)))
    for body in bodies:
        for content_type in ("image/png", "image/jpeg", "application/octet-stream"):
            response = _predict(client, body, content_type)
            assert 400 <= response.status_code < 500, (body[:20], content_type, response.text)
    # Flipped bytes inside the compressed pixels may still decode (to other pixels): a
    # prediction or a 4xx, never a 500.
    for trial in range(20):
        flipped = bytearray(png)
        for position in rng.integers(40, len(png), 1 + trial):
            flipped[position] ^= 0xFF
        response = _predict(client, bytes(flipped))
        assert response.status_code == 200 or 400 <= response.status_code < 500, response.text


def test_missing_or_corrupt_artifact_stops_startup(artifact, tmp_path, monkeypatch):
    broken = _copy(artifact, tmp_path)
    (broken / MODEL_FILE).write_bytes(b"corrupt")
    with pytest.raises(ArtifactError):
        with TestClient(create_app(broken)):
            pass
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    with pytest.raises(ArtifactError, match=MODEL_DIR_ENV):
        with TestClient(create_app()):
            pass


def test_one_json_log_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger=access_logger.name):
        _predict(client, drawing(ONE), **{"x-request-id": "abc"})
        _predict(client, b"", "image/gif")
    records = [r for r in caplog.records if r.name == access_logger.name]
    assert [r.fields["status"] for r in records] == [200, 415]
    assert records[0].fields["request_id"] == "abc" and records[0].fields["label"] == 1
    assert records[0].fields["latency_ms"] > 0


# -- the command line and a real server ----------------------------------------------------


def test_cli_train_refuses_existing_folder_and_serve_needs_a_model(artifact, tmp_path, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(vision, ["train", "--out", str(artifact), "--epochs", "1"])
    assert result.exit_code != 0 and "already exists" in result.output
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    result = runner.invoke(vision, ["serve"])
    assert result.exit_code != 0 and MODEL_DIR_ENV in result.output
    result = runner.invoke(vision, ["serve", "--model-dir", str(tmp_path / "none")])
    assert result.exit_code != 0 and "does not exist" in result.output
    assert "POST /predict" in runner.invoke(vision, ["serve", "--help"]).output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }


def test_served_by_uvicorn(artifact):
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlcourse.vision",
            "serve",
            "--model-dir",
            str(artifact),
            "--port",
            str(port),
        ],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        answer = httpx.post(
            f"{base}/predict", content=drawing(ZERO), headers={"content-type": "image/png"}
        )
        assert answer.status_code == 200 and answer.json()["label"] == 0
        wrong = httpx.post(
            f"{base}/predict", content=b"{}", headers={"content-type": "application/json"}
        )
        assert wrong.status_code == 415
        assert httpx.get(f"{base}/").headers["content-security-policy"] == CSP
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def test_serving_a_corrupt_artifact_exits_nonzero(artifact, tmp_path):
    broken = _copy(artifact, tmp_path)
    meta = json.loads((broken / METADATA_FILE).read_text())
    meta["architecture"]["width"] = 8  # passes the quick check, fails the full load
    (broken / METADATA_FILE).write_text(json.dumps(meta))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcourse.vision",
            "serve",
            "--model-dir",
            str(broken),
            "--port",
            str(_free_port()),
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "does not fit" in done.stderr
