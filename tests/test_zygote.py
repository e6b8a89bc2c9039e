"""Pre-forked grading kernels: fresh per notebook, nothing shared between students."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from mlcourse.grading import KERNEL_ENV, NotebookPlan, Task
from mlcourse.grading.execute import _execute
from mlcourse.sandbox import Limits, bwrap_works
from mlcourse.zygote import Zygote, for_slot, imports_of

SANDBOX = "on" if bwrap_works() else "off"


def test_imports_of_finds_dotted_and_from_imports():
    sources = [
        "import numpy as np\nfrom sklearn.decomposition import PCA\n%matplotlib inline",
        "import os, json\nfrom . import sibling",
        "import skipped\ndef broken(:",  # a cell that does not parse is skipped
        "from mlcourse import check\nimport torch.nn as nn",
    ]
    assert imports_of(sources) == [
        "numpy",
        "sklearn.decomposition",
        "os",
        "json",
        "mlcourse",
        "torch.nn",
    ]


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    root = tmp_path_factory.mktemp("zygote")
    z = Zygote(
        root=root / "slot", preload=["numpy", "mlcourse.check"], sandbox=SANDBOX, env=KERNEL_ENV
    )
    z.start()
    yield z
    z.stop()
    assert not z.alive()


PLAN = NotebookPlan(name="none", points={}, hidden={}, student_version="")


def _task(root: Path) -> Task:
    return Task(
        student="s",
        assignment="a",
        notebooks=[],
        files={},
        refused=[],
        fingerprint="",
        work_dir=str(root),
        db_url="sqlite://",
        sandbox=SANDBOX,
        cell_timeout=20,
        notebook_timeout=60,
        memory_mb=600,
        pids=64,
        read_only=[],
    )


def _run(zygote: Zygote, *sources: str, files: dict[str, str] | None = None):
    """Run cells in a kernel forked from ``zygote``; return (status, detail, outputs)."""
    assert zygote.clean(), "the slot could not be emptied"
    workdir = zygote.prepare({name: text.encode() for name, text in (files or {}).items()})
    nb = new_notebook(cells=[new_code_cell(src) for src in sources])
    status, detail, _ = _execute(nb, _task(zygote.root.parent), PLAN, workdir, zygote)
    outputs = []
    for cell in nb.cells:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        errors = [o.ename for o in cell.outputs if o.output_type == "error"]
        outputs.append((text.strip(), errors))
    return status, detail, outputs


def test_preloaded_modules_are_already_imported(zygote):
    status, _, outputs = _run(
        zygote, "import sys\nprint('numpy' in sys.modules, sys.argv[0].split('/')[-1], sys.argv[1])"
    )
    assert status == "graded"
    assert outputs[0] == ("True ipykernel_launcher.py -f", [])  # as a spawned kernel has it


def test_a_kernel_sees_its_own_files_and_nothing_left_by_the_previous_one(zygote):
    leave = (
        "import os, subprocess, tempfile\n"
        "open('left_behind.txt', 'w').write('secret')\n"
        "open(os.path.join(tempfile.gettempdir(), 'tmp_secret'), 'w').write('secret')\n"
        "subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        "x = 41\nprint(sorted(os.listdir('.')))"
    )
    status, _, outputs = _run(zygote, leave, files={"data_a.csv": "1,2"})
    assert status == "graded"
    assert outputs[0] == ("['data_a.csv', 'left_behind.txt']", [])

    look = (
        "import os, tempfile\n"
        "print(sorted(os.listdir('.')), 'tmp_secret' in os.listdir(tempfile.gettempdir()))\n"
        "procs = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "cmds = [open(f'/proc/{p}/cmdline', 'rb').read() for p in procs]\n"
        "print(any(b'sleep' in c for c in cmds))\n"
        "print('x' in globals())"
    )
    status, _, outputs = _run(zygote, look, files={"data_b.csv": "3,4"})
    assert status == "graded"
    assert outputs[0] == ("['data_b.csv'] False\nFalse\nFalse", [])


def test_forked_kernels_do_not_share_random_state(zygote):
    draw = "import random, numpy as np\nprint(random.random(), np.random.rand())"
    first = _run(zygote, draw)[2][0][0]
    second = _run(zygote, draw)[2][0][0]
    assert first and second and first != second


def test_a_kernel_cannot_get_a_sibling_from_the_zygote(zygote):
    ask = (
        "import json, socket, sys\n"
        f"s = socket.socket(socket.AF_UNIX)\ns.connect({str(zygote.socket_path)!r})\n"
        "s.sendall(json.dumps({'argv': ['-f', '/nonexistent']}).encode() + b'\\n')\n"
        "print(s.recv(1000).decode().strip())"
    )
    status, _, outputs = _run(zygote, ask)
    assert status == "graded"
    assert outputs[0] == ('{"error": "busy"}', [])


@pytest.mark.skipif(SANDBOX == "off", reason="needs bubblewrap")
def test_a_kernel_cannot_kill_the_zygote_or_see_the_grader(zygote):
    hostile = (
        "import os, signal\n"
        "visible = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "for p in visible:\n"
        "    if p != os.getpid():\n"
        "        try:\n            os.kill(p, signal.SIGKILL)\n        except OSError:\n"
        "            pass\n"
        "print(os.getppid(), os.getpid() in visible, len(visible) <= 3)\n"
    )
    status, _, outputs = _run(zygote, hostile)
    assert status == "graded"
    assert outputs[0] == ("1 True True", [])
    assert zygote.alive()
    assert _run(zygote, "print(6 * 7)")[2][0] == ("42", [])


def test_os_exit_and_memory_bomb_end_only_that_kernel(zygote):
    status, detail, outputs = _run(zygote, "import os\nos._exit(3)", "print('never')")
    assert status == "crashed", detail
    assert outputs[1] == ("", [])
    status, detail, _ = _run(zygote, "hog = b'x' * (2_000 * 1024 * 1024)")
    assert status in ("crashed", "graded"), detail  # killed (cgroup) or MemoryError (rlimit)
    assert zygote.alive()
    assert _run(zygote, "print(6 * 7)")[2][0] == ("42", [])


def test_stub_mirrors_a_kernel_that_fails_to_start(zygote):
    """The stub is what Jupyter's kernel manager watches: it lives and dies with the kernel."""
    conn = zygote.runtime_dir / "broken-connection.json"  # where the sandbox can see it
    conn.write_text("{not json")
    cmd = zygote.kernel_command(
        [sys.executable, "-m", "ipykernel_launcher", "-f", str(conn)], [], Limits()
    )
    assert cmd[:3] == [sys.executable, "-I", "-S"]
    done = subprocess.run(cmd, capture_output=True, timeout=60)
    assert done.returncode != 0
    assert zygote.alive()


def test_a_zygote_that_cannot_start_falls_back_to_spawned_kernels(tmp_path):
    def make():
        return Zygote(root=tmp_path / "slot", preload=["numpy"], python="/nonexistent/python")

    calls = []

    def counting():
        calls.append(1)
        return make()

    assert for_slot(("broken",), counting) is None
    assert for_slot(("broken",), counting) is None
    assert len(calls) == 1, "a zygote that failed to start is not retried"


def test_kernels_get_the_grading_environment_forked_or_spawned(zygote, tmp_path):
    """One maths thread and no figure rendering, without touching the grader's own env."""
    cell = "import os\nprint(os.environ.get('OMP_NUM_THREADS'), os.environ.get('MPLBACKEND'))"
    assert _run(zygote, cell)[2][0] == ("1 agg", [])
    nb = new_notebook(cells=[new_code_cell(cell)])
    status, _, _ = _execute(nb, _task(tmp_path), PLAN, tmp_path, None)
    assert status == "graded"
    assert "".join(o.get("text", "") for o in nb.cells[0].outputs).strip() == "1 agg"


@pytest.mark.skipif(SANDBOX == "off", reason="needs bubblewrap")
def test_dev_and_the_runtime_folder_are_read_only_and_ipython_is_fresh(zygote):
    probe = (
        "import os, sys\n"
        "conn = next(a for a in sys.argv if a.endswith('.json'))\n"
        "def writable(path):\n"
        "    try:\n        open(path, 'a').close()\n        return True\n"
        "    except OSError:\n        return False\n"
        "print(writable('/dev/evil'), writable(conn), writable(os.path.dirname(conn) + '/x'))\n"
        "fresh = os.environ['IPYTHONDIR'].startswith('/tmp/ipython-')\n"
        "print(fresh, os.environ['PYTHONNOUSERSITE'])"
    )
    assert _run(zygote, probe)[2][0] == ("False False False\nTrue 1", [])


@pytest.mark.skipif(SANDBOX == "off", reason="needs bubblewrap")
def test_read_only_folders_left_behind_are_emptied_or_the_slot_is_refused(zygote):
    plant = (
        "import os, pathlib\n"
        "for base in ('/tmp/planted', 'planted', '/dev/shm/planted'):\n"
        "    d = pathlib.Path(base) / 'deep'\n"
        "    d.mkdir(parents=True, exist_ok=True)\n"
        "    (d / 'startup.py').write_text('evil')\n"
        "    os.chmod(d, 0o500)\n    os.chmod(d.parent, 0o500)\n"
        "print('planted')"
    )
    assert _run(zygote, plant)[2][0] == ("planted", [])
    look = (
        "import os\n"
        "print([p for p in ('/tmp/planted', 'planted', '/dev/shm/planted') if os.path.exists(p)])"
    )
    assert _run(zygote, look)[2][0] == ("[]", [])


def test_a_slot_that_cannot_be_emptied_is_not_used(tmp_path, monkeypatch):
    from mlcourse import zygote as zmod

    z = Zygote(root=tmp_path / "slot", preload=["mlcourse.check"], sandbox=SANDBOX, env=KERNEL_ENV)
    z.start()
    try:
        monkeypatch.setattr(zmod, "_scrub", lambda folders: ["a file that would not go"])
        assert not z.clean()
    finally:
        z.stop()
