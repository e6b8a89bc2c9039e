"""A real, local MLflow tracking server, started and stopped by course code.

:class:`TrackingServer` runs ``mlflow server`` as a subprocess with a SQLite
backend store (runs, metrics, the model registry) and a local artifact folder
that the server proxies (``--artifacts-destination``), in a temporary folder of
its own. It waits for the server's ``/health`` endpoint, records how long the
start took, and stops the server reliably: on :meth:`~TrackingServer.stop`, at
the end of a ``with`` block, when the Python process exits, and (on Linux)
when the process that started it dies.

Everything stays offline: MLflow's usage telemetry is switched off
(``MLFLOW_DISABLE_TELEMETRY``, ``DO_NOT_TRACK``) for the server and for this
process, and so is the server's job runner (``MLFLOW_SERVER_ENABLE_JOB_EXECUTION``),
a pool of background workers for GenAI evaluation jobs that this course does not
use and that would triple the start time and the memory.

Example::

    from mlcourse.mlops import TrackingServer

    with TrackingServer() as server:     # starts, and waits for /health
        mlflow.set_tracking_uri(server.uri)
        ...
    # stopped, its folder removed
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path

#: Environment that keeps MLflow offline and lean, for the server and the client.
OFFLINE_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
}
#: Client defaults for a server on this machine: a request to a server that is gone fails
#: within seconds instead of retrying with back-off for minutes (MLflow's default), and
#: no progress bar or run link is printed for every artifact and run.
CLIENT_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}

#: Seconds to wait for ``/health`` before giving up (a busy shared machine is slow).
START_TIMEOUT = 240.0
#: Seconds a stopping server gets to exit on SIGTERM before it is killed.
STOP_TIMEOUT = 15.0

_PR_SET_PDEATHSIG = 1
_LIVE: list[weakref.ref] = []
_KEPT: list[TrackingServer] = []  # servers started by ensure_server(), alive until exit
_LOCK = threading.Lock()


class ServerError(RuntimeError):
    """The tracking server did not start, or died."""


def offline() -> None:
    """Switch MLflow's telemetry off in this process, and make its client fail fast.

    Telemetry is decided when ``mlflow`` is imported: call this first. Values
    already set in the environment win.
    """
    for key, value in {**OFFLINE_ENV, **CLIENT_ENV}.items():
        os.environ.setdefault(key, value)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """Ask Linux to send SIGTERM to this child when its parent dies (best effort)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:  # noqa: BLE001 - not Linux, or no prctl: atexit still stops it
        pass


def _listening(host: str, port: int | None) -> bool:
    if port is None:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _finalize(proc: subprocess.Popen, host: str, port: int | None, root: Path | None) -> None:
    """What a server forgotten without stop() still gets: stopped, its own folder removed."""
    _stop_process_group(proc, STOP_TIMEOUT, host, port)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


def _stop_process_group(
    proc: subprocess.Popen, timeout: float, host: str = "127.0.0.1", port: int | None = None
) -> None:
    """SIGTERM the server's process group, wait, then SIGKILL whatever is left.

    The web server (uvicorn) shuts down gracefully within a fraction of a
    second; the ``mlflow server`` wrapper around it then lingers for seconds
    with nothing left to do, so once the port is closed the group is killed.
    """
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            if not _listening(host, port):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.5)
                break
            time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the wrapper, and anything it left behind
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


class TrackingServer:
    """``mlflow server`` on loopback, with a SQLite store and a local artifact folder.

    ``root``: the folder for ``mlflow.db``, ``artifacts/`` and ``server.log``
    (default: a new temporary folder, removed again by :meth:`stop`).
    ``port``: default, a free one. :attr:`start_seconds` is the time from
    launching the process to the first healthy answer.
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        start_timeout: float = START_TIMEOUT,
    ):
        self._own_root = root is None
        self.root = Path(root) if root is not None else None
        self.host = host
        self.port = port
        self.start_timeout = float(start_timeout)
        self.start_seconds: float | None = None
        self._proc: subprocess.Popen | None = None
        self._launched = 0.0
        self._log = None
        self._finalizer = None

    # -- where things are ------------------------------------------------------------
    @property
    def uri(self) -> str:
        """The tracking (and registry) URI to give to MLflow's client."""
        if self.port is None:
            raise ServerError("the server has not been started")
        return f"http://{self.host}:{self.port}"

    @property
    def backend_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def command(self) -> list[str]:
        """The ``mlflow server`` command line this server runs."""
        return [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            self.backend_uri,
            "--artifacts-destination",
            str(self.artifacts),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]

    # -- life cycle ------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """The process is alive (it may still be starting)."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, wait: bool = True) -> TrackingServer:
        """Launch the server; with ``wait``, block until it answers ``/health``."""
        if self.running:
            return self.wait() if wait else self
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="mlcourse-mlflow-"))
            self._own_root = True
        self.root.mkdir(parents=True, exist_ok=True)
        self.artifacts.mkdir(exist_ok=True)
        if self.port is None:
            self.port = free_port(self.host)
        env = {**os.environ, **OFFLINE_ENV, "PYTHONUNBUFFERED": "1"}
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed by stop()
        self._launched = time.perf_counter()
        self.start_seconds = None
        self._proc = subprocess.Popen(
            self.command(),
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        self._finalizer = weakref.finalize(
            self, _finalize, self._proc, self.host, self.port, self.root if self._own_root else None
        )
        with _LOCK:
            _LIVE.append(weakref.ref(self))
        return self.wait() if wait else self

    def healthy(self, timeout: float = 2.0) -> bool:
        """One ``GET /health``: True when the server answers 200."""
        if self.port is None:
            return False
        try:
            with urllib.request.urlopen(f"{self.uri}/health", timeout=timeout) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def wait(self, timeout: float | None = None) -> TrackingServer:
        """Block until ``/health`` answers; raise :class:`ServerError` if it never does."""
        if self._proc is None:
            raise ServerError("the server has not been started")
        if self.start_seconds is not None and self.healthy():
            return self
        deadline = time.perf_counter() + (self.start_timeout if timeout is None else timeout)
        while True:
            if self._proc.poll() is not None:
                raise ServerError(
                    f"mlflow server exited with code {self._proc.returncode} while starting:\n"
                    + self.log_tail()
                )
            if self.healthy(timeout=1.0):
                if self.start_seconds is None:
                    self.start_seconds = time.perf_counter() - self._launched
                return self
            if time.perf_counter() > deadline:
                self.stop()
                raise ServerError(
                    f"mlflow server did not answer /health within {self.start_timeout:.0f} s:\n"
                    + self.log_tail()
                )
            time.sleep(0.1)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except (OSError, TypeError):
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the server (its whole process group) and remove its folder if it made it."""
        if self._proc is not None:
            _stop_process_group(self._proc, timeout, self.host, self.port)
            if self._finalizer is not None:
                self._finalizer.detach()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._own_root and self.root is not None and self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)
        with _LOCK:
            _LIVE[:] = [r for r in _LIVE if r() is not None and r() is not self]
            _KEPT[:] = [k for k in _KEPT if k is not self]

    def __enter__(self) -> TrackingServer:
        return self.start(wait=True)

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        where = self.uri if self.port is not None else "not started"
        return f"<TrackingServer {where} ({state})>"


def current() -> TrackingServer | None:
    """The most recently started server of this process that is still alive, if any."""
    with _LOCK:
        servers = [r() for r in _LIVE]
    for server in reversed(servers):
        if server is not None and server.running:
            return server
    return None


def ensure_server() -> TrackingServer:
    """A healthy server of this process: the current one, or a new one started now.

    A server started here is kept alive until it is stopped or the process exits
    (nothing else holds it, and a forgotten server is stopped when collected).
    """
    server = current()
    if server is None:
        server = TrackingServer().start(wait=False)
        with _LOCK:
            _KEPT.append(server)
    return server.wait()


@atexit.register
def _stop_all() -> None:
    with _LOCK:
        servers = [r() for r in _LIVE]
    for server in servers:
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop(timeout=5)
