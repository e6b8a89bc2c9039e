"""The digits app's command line: train a model artifact, serve it.

\b
python -m mlcourse.vision train --out models/digits
python -m mlcourse.vision serve --model-dir models/digits --port 8001

:data:`vision` is a click group; the ``mlcourse`` CLI can add it as
``mlcourse vision`` (``main.add_command(vision)``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from mlcourse.vision import MAX_BODY_BYTES, MEDIA_TYPES, MODEL_DIR_ENV


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def vision() -> None:
    """The digits web app: train a small residual CNN, then serve it with a drawing page.

    \b
    python -m mlcourse.vision train --out models/digits
    python -m mlcourse.vision serve --model-dir models/digits
    """


@vision.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Artifact folder to create (written to a temporary folder, then renamed).",
)
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
@click.option(
    "--epochs", type=click.IntRange(1, 500), default=None, help="Training epochs (default 20)."
)
@click.option("--seed", type=int, default=None, help="Seed of the split and training (default 0).")
def train(out: Path, force: bool, epochs: int | None, seed: int | None) -> None:
    """Train on scikit-learn's digits and write a versioned model artifact.

    The artifact holds model.pt (the weights) and metadata.json (version, data
    checksum and split, temperature, test accuracy and calibration error before
    and after temperature scaling, training date, library versions, the weights'
    sha256). Nothing is downloaded: the digits ship with scikit-learn.
    """
    from mlcourse.vision.train import EPOCHS, SEED, TrainError
    from mlcourse.vision.train import train as run_training

    try:
        meta = run_training(
            out, force=force, epochs=epochs or EPOCHS, seed=SEED if seed is None else seed
        )
    except TrainError as exc:
        raise click.ClickException(str(exc)) from None
    m = meta["metrics"]
    click.echo(f"wrote {Path(out).resolve()}")
    click.echo(f"  version      {meta['version']}")
    click.echo(f"  test         accuracy {m['accuracy']:.4f}  (n={m['n_test']})")
    click.echo(
        f"  calibration  ECE {m['ece_before']:.4f} -> {m['ece_after']:.4f}, "
        f"NLL {m['nll_before']:.4f} -> {m['nll_after']:.4f} (temperature {m['temperature']:.3f})"
    )


_TYPES = " or ".join(MEDIA_TYPES)
_MIB = MAX_BODY_BYTES // 1024 // 1024
_SERVE_HELP = f"""Serve a model artifact with uvicorn.

\b
GET  /          a page to draw or upload a digit
POST /predict   the image's bytes as the body ({_TYPES}, at most {_MIB} MiB)
GET  /health    liveness and readiness
GET  /model     the artifact's metadata
GET  /docs      interactive OpenAPI documentation

The artifact is verified before serving: a missing or corrupt one stops the
app with a message and a non-zero exit code.
"""


@vision.command(help=_SERVE_HELP)
@click.option(
    "--model-dir",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Artifact folder to serve (default: ${MODEL_DIR_ENV}).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
def serve(model_dir: Path | None, host: str, port: int, log_level: str) -> None:
    import uvicorn

    from mlcourse.vision.artifact import ArtifactError, read_metadata

    folder = model_dir or os.environ.get(MODEL_DIR_ENV)
    if not folder:
        raise click.UsageError(f"give --model-dir or set {MODEL_DIR_ENV}")
    folder = Path(folder).expanduser().resolve()
    try:
        meta = read_metadata(folder)  # a quick check; startup loads and verifies fully
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
        "mlcourse.vision.app:app",
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
    )
    sys.exit(0)


def main(argv: list[str] | None = None) -> None:
    """``python -m mlcourse.vision ...``."""
    vision.main(args=argv, prog_name="python -m mlcourse.vision")


__all__ = ["main", "vision"]
