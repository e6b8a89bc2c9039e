"""The web page served at ``/``: draw or upload a digit, see the model's probabilities.

Plain HTML, CSS and JavaScript, all inline (no CDN, nothing fetched but this
service's own ``/predict`` and ``/model``). The page is served with a
Content-Security-Policy that allows exactly its own script and style, by
their sha256 (:data:`CSP`).

Element ids the browser test relies on: ``pad`` (the drawing canvas),
``predict``, ``clear``, ``upload`` (a file input), ``status``, ``label`` (the
predicted digit), ``confidence``, ``probs`` (a table with one row per digit,
``data-digit`` and ``data-probability`` on each row), ``seen`` (what the
model saw, 8 x 8) and ``model-info``.
"""

from __future__ import annotations

import base64
import hashlib

STYLE = """
:root { color-scheme: light; --ink: #1f2933; --accent: #2f6fdf; --muted: #616e7c; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: var(--ink); background: #f5f7fa; }
header { padding: 1rem 1.5rem; background: #fff; border-bottom: 1px solid #d9e2ec; }
header h1 { margin: 0; font-size: 1.4rem; }
header p { margin: .25rem 0 0; color: var(--muted); font-size: .9rem; }
main { display: flex; flex-wrap: wrap; gap: 1.5rem; padding: 1.5rem; }
section { background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 1rem; }
#pad { border: 2px solid #9aa5b1; border-radius: 4px; touch-action: none; cursor: crosshair;
       width: 280px; height: 280px; display: block; background: #fff; }
.buttons { display: flex; gap: .5rem; margin-top: .75rem; flex-wrap: wrap; align-items: center; }
button, .upload { font: inherit; padding: .45rem .9rem; border-radius: 4px; cursor: pointer;
       border: 1px solid #9aa5b1; background: #fff; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
.upload input { display: none; }
#status { min-height: 1.5em; margin-top: .75rem; font-size: .9rem; color: var(--muted); }
#status.error { color: #b42318; }
#label { font-size: 4rem; font-weight: 700; line-height: 1; margin: 0; }
#confidence { color: var(--muted); margin: .25rem 0 1rem; }
table { border-collapse: collapse; }
td { padding: .12rem .4rem; font-variant-numeric: tabular-nums; }
td.bar { width: 220px; }
.bar span { display: block; height: 14px; background: #bcccdc; border-radius: 2px; width: 0; }
tr.top .bar span { background: var(--accent); }
tr.top td { font-weight: 700; }
#seen { width: 96px; height: 96px; image-rendering: pixelated; border: 1px solid #9aa5b1; }
.small { color: var(--muted); font-size: .85rem; }
"""

SCRIPT = """
"use strict";
const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const statusLine = document.getElementById("status");
const upload = document.getElementById("upload");
let source = null;   // a File chosen by the user, or null for the drawing
let inked = false;   // whether anything was drawn since the last clear
let drawing = false;

function clearPad() {
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  source = null;
  inked = false;
  upload.value = "";
}

function say(text, isError) {
  statusLine.textContent = text;
  statusLine.className = isError ? "error" : "";
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width,
          (event.clientY - box.top) * pad.height / box.height];
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  if (source !== null) { clearPad(); }
  drawing = true;
  pad.setPointerCapture(event.pointerId);
  const [x, y] = point(event);
  ctx.strokeStyle = "#000000";
  ctx.fillStyle = "#000000";
  ctx.lineWidth = Math.round(pad.width / 9);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.arc(x, y, ctx.lineWidth / 2, 0, 2 * Math.PI);
  ctx.fill();
  ctx.beginPath();
  ctx.moveTo(x, y);
  inked = true;
});
pad.addEventListener("pointermove", (event) => {
  if (!drawing) { return; }
  const [x, y] = point(event);
  ctx.lineTo(x, y);
  ctx.stroke();
});
for (const name of ["pointerup", "pointercancel"]) {
  pad.addEventListener(name, () => { drawing = false; });
}

function showPicture(file) {
  const url = URL.createObjectURL(file);
  const picture = new Image();
  picture.onload = () => {
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, pad.width, pad.height);
    const scale = Math.min(pad.width / picture.width, pad.height / picture.height);
    const w = picture.width * scale, h = picture.height * scale;
    ctx.drawImage(picture, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    URL.revokeObjectURL(url);
  };
  picture.onerror = () => URL.revokeObjectURL(url);
  picture.src = url;
}

function drawingAsPng() {
  return new Promise((resolve) => pad.toBlob(resolve, "image/png"));
}

function showSeen(pixels) {
  const seen = document.getElementById("seen");
  const small = seen.getContext("2d");
  const image = small.createImageData(8, 8);
  pixels.flat().forEach((value, i) => {
    const level = 255 - Math.round(255 * Math.min(Math.max(value / 16, 0), 1));
    image.data.set([level, level, level, 255], 4 * i);
  });
  small.putImageData(image, 0, 0);
}

function showResult(result) {
  document.getElementById("label").textContent = String(result.label);
  document.getElementById("confidence").textContent =
    "probability " + (100 * result.confidence).toFixed(1) + " %";
  const rows = document.querySelectorAll("#probs tbody tr");
  result.probabilities.forEach((p, digit) => {
    const row = rows[digit];
    row.dataset.probability = p.toFixed(6);
    row.classList.toggle("top", digit === result.label);
    row.querySelector(".bar span").style.width = (100 * p).toFixed(1) + "%";
    row.querySelector(".pct").textContent = (100 * p).toFixed(1) + " %";
  });
  showSeen(result.input);
  document.getElementById("result").hidden = false;
}

async function predict() {
  let body, type;
  if (source !== null) {
    body = source;
    type = source.type || "application/octet-stream";
  } else if (inked) {
    body = await drawingAsPng();
    type = "image/png";
  } else {
    say("Draw a digit first, or upload an image.", true);
    return;
  }
  say("Predicting...", false);
  let response, answer;
  try {
    response = await fetch("predict", { method: "POST", headers: { "Content-Type": type }, body });
    answer = await response.json();
  } catch (error) {
    say("The service did not answer: " + error, true);
    return;
  }
  if (!response.ok) {
    document.getElementById("result").hidden = true;
    const detail = typeof answer.detail === "string"
      ? answer.detail : JSON.stringify(answer.detail);
    say("Error " + response.status + ": " + detail, true);
    return;
  }
  showResult(answer);
  say("Done (model " + answer.model_version + ").", false);
}

document.getElementById("predict").addEventListener("click", predict);
document.getElementById("clear").addEventListener("click", () => {
  clearPad();
  document.getElementById("result").hidden = true;
  say("", false);
});
upload.addEventListener("change", () => {
  const file = upload.files[0];
  if (!file) { return; }
  const chosen = file;
  clearPad();
  source = chosen;
  document.getElementById("result").hidden = true;
  showPicture(chosen);
  predict();
});

fetch("model").then((r) => (r.ok ? r.json() : null)).then((meta) => {
  if (!meta) { return; }
  const m = meta.metrics || {};
  document.getElementById("model-info").textContent =
    "Model " + meta.version + ": test accuracy " + (100 * m.accuracy).toFixed(1) +
    " %, calibration error (ECE) " + Number(m.ece_after).toFixed(3) +
    " after temperature scaling (T = " + Number(meta.temperature).toFixed(2) + ").";
}).catch(() => {});
clearPad();
"""

_ROWS = "\n".join(
    f'<tr data-digit="{d}" data-probability=""><td>{d}</td>'
    '<td class="bar"><span></span></td><td class="pct"></td></tr>'
    for d in range(10)
)

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Digit recogniser</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Digit recogniser</h1>
<p id="model-info">A small residual CNN trained on scikit-learn's hand-written digits.</p>
</header>
<main>
<section aria-label="input">
<canvas id="pad" width="280" height="280" aria-label="drawing area: draw one digit"></canvas>
<div class="buttons">
<button id="predict" class="primary" type="button">Predict</button>
<button id="clear" type="button">Clear</button>
<label class="upload">Upload an image
<input id="upload" type="file" accept="image/png,image/jpeg"></label>
</div>
<div id="status" role="status" aria-live="polite"></div>
<p class="small">Draw one digit, large, filling the box; or upload a PNG or JPEG of one.</p>
</section>
<section id="result" aria-label="prediction" hidden>
<p id="label"></p>
<p id="confidence"></p>
<table id="probs"><thead><tr><th>digit</th><th>probability</th><th></th></tr></thead>
<tbody>
{_ROWS}
</tbody></table>
<p class="small">What the model saw (8 x 8):</p>
<canvas id="seen" width="8" height="8"></canvas>
</section>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


#: Only this page's own script and style run; it talks only to this service.
CSP = (
    "default-src 'none'; "
    f"script-src {_sha256(SCRIPT)}; "
    f"style-src {_sha256(STYLE)}; "
    "img-src blob: data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

__all__ = ["CSP", "PAGE"]
