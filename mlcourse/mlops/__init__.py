"""MLOps helpers for ``03_specialize/mlops_lifecycle.ipynb``.

* :mod:`~mlcourse.mlops.server`: :class:`TrackingServer`, a real ``mlflow server``
  with a SQLite store and an artifact folder, started, health-checked and stopped;
* :mod:`~mlcourse.mlops.housing`: the running example (California districts, a
  price model, a simulated month of production traffic with a regional shift);
* :mod:`~mlcourse.mlops.dockerfile`: a static checker for a model service's
  Dockerfile (nothing is built: there is no container engine here);
* :mod:`~mlcourse.mlops.environment`: pinned requirements.

Importing this package switches MLflow's telemetry off for the process (import it
before ``mlflow``) and makes MLflow's client give up on a dead server within seconds.
"""

from mlcourse.mlops.environment import pinned
from mlcourse.mlops.server import (
    CLIENT_ENV,
    OFFLINE_ENV,
    ServerError,
    TrackingServer,
    current,
    ensure_server,
    free_port,
    offline,
)

offline()

__all__ = [
    "CLIENT_ENV",
    "OFFLINE_ENV",
    "ServerError",
    "TrackingServer",
    "current",
    "ensure_server",
    "free_port",
    "offline",
    "pinned",
]
