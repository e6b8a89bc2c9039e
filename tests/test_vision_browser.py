"""The digits web app in a real browser: Playwright in Debian's headless Chromium.

A model artifact is trained (``python -m mlcourse.vision train``), served by the
real app (``python -m mlcourse.vision serve``, uvicorn on a free port), and the
page at ``/`` is used as a person would: draw a "1" and a "0" with the mouse
and press Predict, upload a PNG of a real test digit, upload a file of the
wrong type. A screenshot of every step goes to ``test-artifacts/vision/``.

Needs Debian's Chromium (``apt-get install chromium``) and ``pip install
playwright``; never ``playwright install``. Select with ``pytest -m browser``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = REPO / "test-artifacts" / "vision"
TIMEOUT_MS = 30_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _post(url: str, body: bytes, content_type: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mlcourse.vision", *args]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A trained artifact served by ``python -m mlcourse.vision serve``; yields the base URL."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: apt-get install -y chromium")
    pytest.importorskip(
        "playwright.sync_api", reason="Playwright is missing: pip install playwright"
    )
    tmp = tmp_path_factory.mktemp("vision-browser")
    model_dir = tmp / "digits-model"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    trained = subprocess.run(
        _cli("train", "--out", str(model_dir)),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp / "server.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        _cli("serve", "--model-dir", str(model_dir), "--port", str(port)),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, ended below by its id
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the app exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                if _get(f"{base}/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not answer in time:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "server.log").write_text(log_path.read_text())


def _stroke(page, box, points, steps: int = 6) -> None:
    """Press the mouse at the first point (fractions of the canvas), move through the rest."""

    def at(p):
        return box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"]

    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*at(p), steps=steps)
    page.mouse.up()


def _shown_probabilities(page) -> dict[int, float]:
    rows = page.locator("#probs tbody tr")
    return {
        int(rows.nth(i).get_attribute("data-digit")): float(
            rows.nth(i).get_attribute("data-probability")
        )
        for i in range(rows.count())
    }


def test_draw_and_upload_digits(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from mlcourse.vision.preprocess import to_png
    from mlcourse.vision.train import load_split

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()

    # A real test digit the served model gets right: the first test "3" it recognises.
    split = load_split()
    upload = None
    for image, label in zip(split.test_images, split.test_labels):
        if label == 3:
            png = to_png(image, scale=24, invert=True)  # dark ink on white, 192 x 192
            status, answer = _post(f"{server}/predict", png, "image/png")
            assert status == 200, answer
            if answer["label"] == 3:
                upload = tmp_path / "test_digit_3.png"
                upload.write_bytes(png)
                break
    assert upload is not None, "the model recognises no test 3 at all"
    wrong = tmp_path / "notes.txt"
    wrong.write_text("not an image")

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1100, "height": 760})
        page.set_default_timeout(TIMEOUT_MS)
        requested: list[str] = []
        problems: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: problems.append(str(error)))

        def shot(name: str) -> None:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

        try:
            # 1. the page, with the model's figures from /model
            page.goto(server + "/")
            expect(page).to_have_title("Digit recogniser")
            expect(page.locator("#model-info")).to_contain_text("test accuracy")
            expect(page.locator("#model-info")).to_contain_text("ECE")
            pad = page.locator("#pad")
            expect(pad).to_be_visible()
            box = pad.bounding_box()
            shot("1_page")

            # 2. Predict with nothing drawn: a friendly message, no request
            page.click("#predict")
            expect(page.locator("#status")).to_contain_text("Draw a digit first")

            # 3. draw a "1": one vertical stroke
            _stroke(page, box, [(0.5, 0.15), (0.5, 0.85)])
            page.click("#predict")
            expect(page.locator("#label")).to_have_text("1")
            probs = _shown_probabilities(page)
            assert max(probs, key=probs.get) == 1
            assert abs(sum(probs.values()) - 1.0) < 1e-3
            expect(page.locator('#probs tr[data-digit="1"]')).to_have_class("top")
            shot("2_drawn_one")

            # 4. clear, then draw a "0": an ellipse in one stroke
            page.click("#clear")
            expect(page.locator("#result")).to_be_hidden()
            ring = [
                (
                    0.5 + 0.22 * math.sin(2 * math.pi * k / 40),
                    0.5 - 0.34 * math.cos(2 * math.pi * k / 40),
                )
                for k in range(41)
            ]
            _stroke(page, box, ring, steps=2)
            page.click("#predict")
            expect(page.locator("#label")).to_have_text("0")
            shot("3_drawn_zero")

            # 5. upload a PNG of a real test digit: it is predicted at once
            page.set_input_files("#upload", str(upload))
            expect(page.locator("#label")).to_have_text("3")
            expect(page.locator("#status")).to_contain_text("Done")
            shot("4_uploaded_test_digit")

            # 6. a file that is not an image: the service's 415 message is shown
            page.set_input_files("#upload", str(wrong))
            expect(page.locator("#status")).to_contain_text("Error 415")
            expect(page.locator("#status")).to_contain_text("image/png or image/jpeg")
            shot("5_wrong_file_type")
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    assert all(url.startswith(server) or url.startswith("blob:") for url in requested), requested
    # Chromium logs every 4xx as a console error: only the 415 of step 6 is expected.
    expected = "Failed to load resource: the server responded with a status of 415"
    assert [text for text in problems if not text.startswith(expected)] == [], problems
