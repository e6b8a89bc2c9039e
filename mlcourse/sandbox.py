"""Running a student's kernel where it can do no harm.

Two layers, each used when the machine allows it:

* **bubblewrap** (``bwrap``): the kernel sees a private ``/tmp``, no network,
  the Python installation read-only (exactly the folders its own Python
  imports from, found by asking that Python), the data cache read-only, a
  read-only ``/dev`` with the usual device nodes (and a private
  ``/dev/shm``), its runtime folder (connection file) read-only, and two
  writable folders: the student's own submission copy and a folder for the
  kernel's sockets. Course sources, the gradebook and other students' files
  are simply not there. It has its own process namespace (the grader and
  other kernels are invisible, so they cannot be signalled) and no
  capabilities, even when grading runs as root. Python's user site, startup
  files and IPython profiles are off.
* **cgroups** (v1 or v2, when writable): a process-count limit (``pids.max``)
  that holds even for root, where ``RLIMIT_NPROC`` is ignored, and a memory
  limit. Without cgroups, ``prlimit --as`` caps the address space instead.

:class:`SandboxKernelManager` is a Jupyter kernel manager that wraps the
kernel's command line; nbclient uses it like any other. With a *launcher*
(the zygote of :mod:`mlcourse.zygote`, which imports this module, never the
reverse), the command asks the sandboxed zygote for a forked kernel instead
of starting Python afresh.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from jupyter_client.manager import AsyncKernelManager

CGROUP_ROOT = Path("/sys/fs/cgroup")

#: Environment for every sandboxed process: no user site, no bytecode writes.
SANDBOX_ENV = {
    "HOME": "/tmp",
    "MPLCONFIGDIR": "/tmp",
    "TMPDIR": "/tmp",
    "IPYTHONDIR": "/tmp/.ipython",
    "PYTHONNOUSERSITE": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}


class KernelLauncher(Protocol):
    """Something that starts kernels in its own way (the zygote)."""

    def kernel_command(
        self, kernel_cmd: list[str], cgroup_dirs: list[Path], limits
    ) -> list[str]: ...


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


@dataclass
class Limits:
    """Resource limits for one grading kernel."""

    memory_mb: int = 2048
    pids: int = 256


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def bwrap_works() -> bool:
    """bubblewrap is installed and can create its namespaces here."""
    exe = bwrap_path()
    if not exe:
        return False
    try:
        result = subprocess.run(
            [exe, "--ro-bind", "/", "/", "--unshare-net", "--die-with-parent", "true"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def resolve_mode(mode: str) -> str:
    """``auto`` -> ``on`` when bubblewrap works, else ``off``; ``on`` must work."""
    if mode not in ("auto", "on", "off"):
        raise ValueError(f"sandbox mode must be auto, on or off, not {mode!r}")
    if mode == "off":
        return "off"
    if bwrap_works():
        return "on"
    if mode == "on":
        raise RuntimeError(
            "--sandbox on, but bubblewrap is not usable here: install it "
            "(apt-get install bubblewrap) or use --sandbox auto/off"
        )
    return "off"


class Cgroup:
    """A cgroup (v1 or v2) with a pids and memory limit, if the system lets us make one."""

    def __init__(self, name: str, limits: Limits):
        self.name = name
        self.limits = limits
        self.dirs: list[Path] = []
        self.v2 = (CGROUP_ROOT / "cgroup.controllers").exists()

    def create(self) -> bool:
        memory = str(self.limits.memory_mb * 1024 * 1024)
        try:
            if self.v2:
                path = CGROUP_ROOT / "mlcourse" / self.name
                path.mkdir(parents=True, exist_ok=True)
                self.dirs.append(path)
                (path / "pids.max").write_text(str(self.limits.pids))
                (path / "memory.max").write_text(memory)
                (path / "memory.swap.max").write_text("0")
            else:
                pids = CGROUP_ROOT / "pids" / "mlcourse" / self.name
                mem = CGROUP_ROOT / "memory" / "mlcourse" / self.name
                for path in (pids, mem):
                    path.mkdir(parents=True, exist_ok=True)
                    self.dirs.append(path)
                (pids / "pids.max").write_text(str(self.limits.pids))
                (mem / "memory.limit_in_bytes").write_text(memory)
                try:
                    (mem / "memory.memsw.limit_in_bytes").write_text(memory)
                except OSError:
                    pass  # no swap accounting: the plain limit still holds
        except OSError:
            self.destroy()
            return False
        return True

    def join_prefix(self) -> list[str]:
        """A command prefix that moves itself into the cgroup, then execs the rest."""
        if not self.dirs:
            return []
        writes = "; ".join(f'echo $$ > "{d}/cgroup.procs"' for d in self.dirs)
        return ["/bin/sh", "-c", f'{writes}; exec "$@"', "mlcourse-cgroup"]

    def kill_all(self) -> None:
        for path in self.dirs:
            try:
                for pid in (path / "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
            except OSError:
                pass

    def memory_exceeded(self) -> bool:
        """True when the kernel hit the memory limit (the OOM killer acted)."""
        limit = self.limits.memory_mb * 1024 * 1024
        for path in self.dirs:
            for name in ("memory.failcnt", "memory.memsw.failcnt"):
                value = _read(path / name)
                if value and value not in ("0",):
                    return True
            peak = _read(path / "memory.max_usage_in_bytes") or _read(path / "memory.peak")
            if peak and peak.isdigit() and int(peak) >= 0.97 * limit:
                return True
            for name in ("memory.oom_control", "memory.events"):
                for line in (_read(path / name) or "").splitlines():
                    key, _, value = line.partition(" ")
                    if key in ("oom_kill", "oom", "max") and value.strip() not in ("", "0"):
                        return True
        return False

    def pids_exceeded(self) -> bool:
        """True when a fork was refused because of the process-count limit."""
        for path in self.dirs:
            for line in (_read(path / "pids.events") or "").splitlines():
                key, _, value = line.partition(" ")
                if key == "max" and value.strip() not in ("", "0"):
                    return True
        return False

    def destroy(self) -> None:
        self.kill_all()
        for path in self.dirs:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    import time

                    time.sleep(0.05)
        self.dirs = []


@dataclass
class SandboxSpec:
    """Everything the wrapper needs to know about one kernel."""

    workdir: Path
    runtime_dir: Path  # the connection file: read-only inside
    ipc_dir: Path | None = None  # the kernel's sockets: writable inside (default: runtime_dir)
    mode: str = "off"  # "on" (bubblewrap) or "off"
    limits: Limits = field(default_factory=Limits)
    read_only: list[Path] = field(default_factory=list)
    cgroup: Cgroup | None = None
    zygote: KernelLauncher | None = None  # fork the kernel from this pre-warmed process
    env: dict[str, str] = field(default_factory=dict)  # set for the kernel
    python: str = os.path.abspath(sys.executable)

    @property
    def sockets(self) -> Path:
        return self.ipc_dir or self.runtime_dir


_ROOTS_PROBE = """
import json, sys
found = {"prefix": [sys.prefix, sys.base_prefix, sys.exec_prefix], "path": sys.path}
try:
    import mlcourse, mlcourse.exercises
    found["mlcourse"] = mlcourse.__file__
    found["exercises"] = list(mlcourse.exercises.__path__)
except Exception as exc:
    found["error"] = repr(exc)
print(json.dumps(found))
"""


@functools.lru_cache(maxsize=8)
def _probe(python: str, env_items: tuple) -> dict:
    env = {**os.environ, **dict(env_items)}
    env.pop("PYTHONSTARTUP", None)
    try:
        out = subprocess.run(
            [python, "-c", _ROOTS_PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd="/",
        ).stdout
        return json.loads(out.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return {}


def python_roots(python: str = sys.executable, env: dict | None = None) -> list[Path]:
    """The folders ``python`` imports from (with ``env``), as that Python resolves them.

    The grading process may have imported ``mlcourse`` from another checkout
    than the one the kernel's Python resolves; the sandbox must show the
    kernel's. Only the package folders are shown, never the checkout around
    them (which holds the course's solutions).
    """
    found = _probe(python, tuple(sorted((env or {}).items())))
    roots = {Path(python).resolve().parent.parent}
    for prefix in found.get("prefix", [sys.prefix, sys.base_prefix]):
        roots.add(Path(prefix).resolve())
    if found.get("mlcourse"):
        roots.add(Path(found["mlcourse"]).resolve().parent)
    for folder in found.get("exercises", []):
        roots.add(Path(folder).resolve())
    return sorted(roots)


def kernel_import_error(python: str = sys.executable, env: dict | None = None) -> str | None:
    """Why the kernel's Python cannot import the course package, or None."""
    found = _probe(python, tuple(sorted((env or {}).items())))
    if not found:
        return f"{python} did not start"
    return found.get("error")


def bwrap_command(spec: SandboxSpec, cmd: list[str], as_pid_1: bool = False) -> list[str]:
    """The bubblewrap command line that runs ``cmd`` in the sandbox.

    ``as_pid_1`` makes ``cmd`` the init of the sandbox's process namespace,
    which processes inside cannot kill (the zygote uses this).
    """
    args = [
        bwrap_path() or "bwrap",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        # its own process namespace: nothing outside (the grader, other
        # kernels) can be seen or signalled
        "--unshare-pid",
        # as root, bubblewrap would otherwise keep every capability (mount,
        # mknod, ...), and with them a way out
        "--cap-drop",
        "ALL",
        *(["--as-pid-1"] if as_pid_1 else []),
        "--die-with-parent",
        "--new-session",
        "--ro-bind",
        "/usr",
        "/usr",
        "--ro-bind",
        "/etc",
        "/etc",
    ]
    for link in ("bin", "sbin", "lib", "lib64", "lib32"):
        target = Path("/") / link
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            args += ["--ro-bind", str(target), str(target)]
    # A read-only /dev with the usual device nodes, and a private /dev/shm.
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    args += ["--tmpfs", "/tmp"]
    roots = python_roots(spec.python, spec.env) + [Path(p).resolve() for p in spec.read_only]
    for root in roots:
        if root.exists():
            args += ["--ro-bind", str(root), str(root)]
    args += ["--ro-bind", str(spec.runtime_dir), str(spec.runtime_dir)]
    if spec.sockets != spec.runtime_dir:
        args += ["--bind", str(spec.sockets), str(spec.sockets)]
    args += ["--bind", str(spec.workdir), str(spec.workdir)]
    args += ["--chdir", str(spec.workdir)]
    for key, value in SANDBOX_ENV.items():
        args += ["--setenv", key, value]
    # ipykernel would watch this pid, which its own pid namespace cannot see,
    # and quit at once; --die-with-parent does that job here.
    args += ["--unsetenv", "JPY_PARENT_PID"]
    return [*args, "--", *cmd]


def wrap_command(spec: SandboxSpec, cmd: list[str]) -> list[str]:
    """``cmd`` with every available limit applied."""
    if spec.zygote is not None:
        # The zygote already runs in the sandbox; the stub moves the forked
        # kernel into the cgroup, or the kernel sets its own rlimits.
        dirs = spec.cgroup.dirs if spec.cgroup is not None else []
        return spec.zygote.kernel_command(cmd, dirs, spec.limits)
    inner = list(cmd)
    if spec.cgroup is None and shutil.which("prlimit"):
        # No cgroup: cap the address space (generous, since imports map a lot).
        limit = spec.limits.memory_mb * 1024 * 1024 * 2
        inner = ["prlimit", f"--as={limit}", f"--nproc={spec.limits.pids}", "--", *inner]
    if spec.mode == "on":
        inner = bwrap_command(spec, inner)
    if spec.cgroup is not None:
        inner = spec.cgroup.join_prefix() + inner
    return inner


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs inside :class:`SandboxSpec`'s limits.

    Subclass it with a ``spec`` class attribute (see :func:`kernel_manager_for`):
    nbclient instantiates the class itself.
    """

    spec: SandboxSpec

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        runtime = self.spec.runtime_dir
        runtime.mkdir(parents=True, exist_ok=True)
        self.spec.sockets.mkdir(parents=True, exist_ok=True)
        # The kernel has no shared loopback inside the sandbox: talk over
        # unix sockets in a folder both sides see, at one absolute path. The
        # connection file sits in the runtime folder, read-only inside.
        self.transport = "ipc"
        self.ip = str(self.spec.sockets / f"k{uuid.uuid4().hex[:12]}")
        self.connection_file = str(runtime / f"kernel-{uuid.uuid4().hex[:12]}.json")

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # What a graded kernel prints outside the notebook is nobody's business
        # (and would flood the grader's terminal).
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        env = {**kw.get("env", os.environ), **self.spec.env}
        if self.spec.mode == "on":
            env.update(SANDBOX_ENV)
        env.pop("PYTHONSTARTUP", None)
        env["PYTHONNOUSERSITE"] = "1"
        kw["env"] = env
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    def format_kernel_cmd(self, extra_arguments=None):
        # Signals cannot reach a kernel in another session inside bubblewrap;
        # ipykernel also accepts interrupts as messages on its control channel.
        self.kernel_spec.interrupt_mode = "message"
        cmd = super().format_kernel_cmd(extra_arguments=extra_arguments)
        return wrap_command(self.spec, cmd)


def kernel_manager_for(spec: SandboxSpec) -> type[SandboxKernelManager]:
    return type("BoundSandboxKernelManager", (SandboxKernelManager,), {"spec": spec})


# -- kernels without a network (the gate's) ------------------------------------------


def offline_command(cmd: list[str]) -> list[str]:
    """``cmd`` in a new network namespace (only a loopback), everything else as it is.

    For kernels that must see the whole machine (the gate runs the course's own
    source notebooks) but prove that nothing is downloaded: any connection
    beyond the namespace's own loopback fails with "Network is unreachable".
    """
    exe = bwrap_path() or "bwrap"
    return [exe, "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent", "--", *cmd]


class OfflineKernelManager(AsyncKernelManager):
    """A kernel with no network, talking to its client over unix sockets in ``sockets``.

    The kernel's loopback is its own (a server it starts is reachable from inside
    only), so the channels cannot be TCP; subclass with a ``sockets`` folder
    (see :func:`offline_kernel_manager`).
    """

    sockets: Path

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sockets.mkdir(parents=True, exist_ok=True)
        self.transport = "ipc"
        self.ip = str(self.sockets / f"k{uuid.uuid4().hex[:12]}")

    def format_kernel_cmd(self, extra_arguments=None):
        # The kernel's process is bubblewrap's child: interrupt over the control channel.
        self.kernel_spec.interrupt_mode = "message"
        return offline_command(super().format_kernel_cmd(extra_arguments=extra_arguments))


def offline_kernel_manager(sockets: Path) -> type[OfflineKernelManager]:
    return type("BoundOfflineKernelManager", (OfflineKernelManager,), {"sockets": Path(sockets)})
