"""Running a student's kernel where it can do no harm.

Two layers, each used when the machine allows it:

* **bubblewrap** (``bwrap``): the kernel sees a private ``/tmp``, no network,
  the Python installation read-only, the data cache read-only, and exactly one
  writable folder: the student's own submission copy. Course sources, the
  gradebook and other students' files are simply not there. It has its own
  process namespace (the grader and other kernels are invisible, so they
  cannot be signalled) and no capabilities, even when grading runs as root.
* **cgroups** (v1 or v2, when writable): a process-count limit (``pids.max``)
  that holds even for root, where ``RLIMIT_NPROC`` is ignored, and a memory
  limit. Without cgroups, ``prlimit --as`` caps the address space instead.

:class:`SandboxKernelManager` is a Jupyter kernel manager that wraps the
kernel's command line; nbclient uses it like any other. With a zygote
(:mod:`mlcourse.zygote`), the command asks the sandboxed zygote for a forked
kernel instead of starting Python afresh.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_client.manager import AsyncKernelManager

if TYPE_CHECKING:
    from mlcourse.zygote import Zygote

CGROUP_ROOT = Path("/sys/fs/cgroup")


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
    runtime_dir: Path
    mode: str = "off"  # "on" (bubblewrap) or "off"
    limits: Limits = field(default_factory=Limits)
    read_only: list[Path] = field(default_factory=list)
    cgroup: Cgroup | None = None
    zygote: Zygote | None = None  # fork the kernel from this pre-warmed process
    env: dict[str, str] = field(default_factory=dict)  # set for the kernel


def _python_roots() -> list[Path]:
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    roots.add(Path(sys.executable).resolve().parent.parent)
    import mlcourse

    roots.add(Path(mlcourse.__file__).resolve().parent)
    return sorted(roots)


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
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for root in _python_roots() + [Path(p).resolve() for p in spec.read_only]:
        if root.exists():
            args += ["--ro-bind", str(root), str(root)]
    args += ["--bind", str(spec.runtime_dir), str(spec.runtime_dir)]
    args += ["--bind", str(spec.workdir), str(spec.workdir)]
    args += ["--chdir", str(spec.workdir)]
    for key, value in {
        "HOME": "/tmp",
        "MPLCONFIGDIR": "/tmp",
        "TMPDIR": "/tmp",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }.items():
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
        # The kernel has no shared loopback inside the sandbox: talk over
        # unix sockets in a folder both sides see, at one absolute path.
        self.transport = "ipc"
        self.ip = str(runtime / f"k{uuid.uuid4().hex[:8]}")
        self.connection_file = str(runtime / f"kernel-{uuid.uuid4().hex[:8]}.json")

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # What a graded kernel prints outside the notebook is nobody's business
        # (and would flood the grader's terminal).
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        kw["env"] = {**kw.get("env", os.environ), **self.spec.env}
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    def format_kernel_cmd(self, extra_arguments=None):
        # Signals cannot reach a kernel in another session inside bubblewrap;
        # ipykernel also accepts interrupts as messages on its control channel.
        self.kernel_spec.interrupt_mode = "message"
        cmd = super().format_kernel_cmd(extra_arguments=extra_arguments)
        return wrap_command(self.spec, cmd)


def kernel_manager_for(spec: SandboxSpec) -> type[SandboxKernelManager]:
    return type("BoundSandboxKernelManager", (SandboxKernelManager,), {"spec": spec})
