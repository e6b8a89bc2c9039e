"""Realistic cohorts of submissions, for demos, tests and benchmarks.

``mlcourse demo-cohort ASSIGNMENT --students N --out DIR`` writes nbgrader's
layout, ``DIR/<student_id>/<ASSIGNMENT>/<notebook>.ipynb``, built from the
source notebooks: some students submit correct work, some leave the stubs,
most mix correct answers with the notebooks' own mistake fixtures.
``--hostile`` adds one student per kind of hostile or broken submission.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from mlcourse import paths
from mlcourse.notebook import BEGIN_SOLUTION, END_SOLUTION, parse
from mlcourse.release import student_version

HOSTILE = {
    "correct": "correct work",
    "stub": "the stubs, untouched",
    "partly_wrong": "one exercise replaced by a mistake fixture",
    "infinite_loop": "an infinite loop in the first exercise",
    "memory_bomb": "allocates memory until stopped, in the first exercise",
    "fork_bomb": "forks up to 2,000 processes in the first exercise",
    "os_exit": "calls os._exit(1) in the first exercise",
    "syntax_error": "a syntax error in the first exercise",
    "malformed_json": "a truncated notebook file",
    "edited_test": "a wrong answer, and its test cell edited to pass",
    "deleted_test": "the stub, and its test cell deleted",
    "edited_metadata": "the stub, and its test cell's nbgrader metadata edited",
    "missing_notebook": "no notebook submitted",
    "monkeypatch": "a wrong answer, and numpy.isclose patched to always agree",
    "reads_course": "copies the solution out of the course sources",
    "network": "opens a network socket in the first exercise",
    "huge_output": "prints 60 MB, then correct work",
    "kills_processes": "sends SIGKILL to every process it can see, in the first exercise",
    # Attacks on where the verdict is decided (issue: grades an instructor can trust)
    "custom_exc": "an IPython exception handler that swallows every error, and the stub",
    "ast_rewrite": "an AST transformer that rewrites later cells and forges the checks' answers",
    "clears_outputs": "a post_run_cell hook that clears outputs and prints a pass, and the stub",
    "wrapped_stdout": "sys.stdout wrapped to rewrite what the checks print, and a wrong answer",
    "forged_guard": "prints the old integrity guard's tag first and rebinds its name",
    "lying_answer": "returns an object that reads the expected value from the checker's frames",
    "symlink_notebook": "the notebook is a symbolic link to the course's source",
    "symlink_data": "a data file is a symbolic link to the course's source",
    "plants_startup": "plants IPython startup files, a .pth file and writes into /dev and the "
    "runtime folder, to harm the next student in the slot",
    "leaks_hidden": "raises an error whose text is every source line and frame the kernel holds",
    "duplicated_cells": "honest work, with an answer cell and a test cell duplicated by copy "
    "and paste",
}
# Cases that would harm the machine if graded without the sandbox.
NEEDS_SANDBOX = {"kills_processes", "plants_startup"}

_FORGE = """import ast, base64, json


class _Forge(ast.NodeTransformer):
    # Rewrites the grader's requests (any `.serve(payload, nonce)` call) into a
    # forged answer, and every `check(...)` into nothing.
    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "serve" and len(node.args) == 2:
            fake = base64.b64encode(json.dumps({"value": 6}).encode()).decode()
            text = ast.BinOp(node.args[1], ast.Add(), ast.Constant(fake))
            return ast.Call(ast.Name("print", ast.Load()), [text], [])
        if isinstance(func, ast.Name) and func.id == "check":
            return ast.Constant(None)
        return self.generic_visit(node)


get_ipython().ast_transformers.append(_Forge())
"""

_LIAR = """import sys
import numpy as np


class _Liar:
    # Pretends to be whatever the checker expects, by reading its frames.
    shape = ()
    dtype = np.dtype(float)

    def _steal(self):
        frame = sys._getframe(1)
        while frame is not None:
            for name in ("expected", "exp", "want", "value"):
                if name in frame.f_locals:
                    return frame.f_locals[name]
            frame = frame.f_back
        return 0

    def __array__(self, *args, **kwargs):
        return np.asarray(self._steal(), dtype=float)

    def __eq__(self, other):
        return True

    def __float__(self):
        return float(self._steal())

    def __int__(self):
        return int(self._steal())

    def __index__(self):
        return int(self._steal())


"""

_PLANT = r"""import glob, os, pathlib, sys

_evil = (
    "get_ipython().events.register('post_run_cell', "
    "lambda *a: get_ipython().user_ns.update(double=lambda x: 0, square=lambda x: 0))\n"
)
for _base in {os.path.expanduser("~"), "/tmp", os.environ.get("IPYTHONDIR", "/tmp/.ipython")}:
    for _dir in (pathlib.Path(_base) / ".ipython" / "profile_default" / "startup",
                 pathlib.Path(_base) / "profile_default" / "startup"):
        try:
            _dir.mkdir(parents=True, exist_ok=True)
            (_dir / "00-evil.py").write_text(_evil)
            for _p in (_dir, _dir.parent, _dir.parent.parent):
                os.chmod(_p, 0o555)
        except OSError:
            pass
_site = pathlib.Path(os.path.expanduser("~")) / ".local/lib/python3.11/site-packages"
try:
    _site.mkdir(parents=True, exist_ok=True)
    (_site / "evil.pth").write_text("import os; os._exit(3)\n")
    os.chmod(_site, 0o555)
except OSError:
    pass
for _target in ["/dev/evil"] + [a for a in sys.argv if a.endswith(".json")]:
    try:
        with open(_target, "a") as _fh:
            _fh.write("{}")
    except OSError:
        pass
_json = next((a for a in sys.argv if a.endswith(".json")), "/x/x")
for _conn in glob.glob(os.path.join(os.path.dirname(_json), "*")):
    try:
        os.unlink(_conn)
    except OSError:
        pass
"""

_LEAK = """import linecache, sys


def _everything():
    texts = ["".join(v[2]) for v in list(linecache.cache.values()) if len(v) > 2]
    texts += list(get_ipython().user_ns.get("In", []))
    frame = sys._getframe(1)
    while frame is not None:
        texts.append(repr(frame.f_locals)[:3000])
        frame = frame.f_back
    raise ValueError("\\n".join(texts))


"""


def _solution_code(source: str) -> str:
    """A solution cell as the learner would have written it: markers removed."""
    return "\n".join(
        line
        for line in source.splitlines()
        if BEGIN_SOLUTION not in line and END_SOLUTION not in line
    )


class Submissions:
    """Build student notebooks from one source notebook."""

    def __init__(self, source: Path):
        self.course_nb = parse(source)
        self.name = source.name
        self.student = student_version(self.course_nb.nb)
        self.solutions = {
            ex.name: _solution_code(self.course_nb.nb.cells[ex.solution_index].source)
            for ex in self.course_nb.exercises
        }

    def build(self, answers: dict[str, str]) -> NotebookNode:
        """The student version with some solution cells filled in (name -> code)."""
        nb = copy.deepcopy(self.student)
        for ex in self.course_nb.exercises:
            if ex.name in answers:
                nb.cells[ex.solution_index].source = answers[ex.name]
        return nb

    def correct(self) -> NotebookNode:
        return self.build(self.solutions)

    def mistaken(self, rng: random.Random, p_correct: float = 0.6) -> NotebookNode:
        answers = {}
        by_exercise: dict[str, list[str]] = {}
        for mistake in self.course_nb.mistakes:
            by_exercise.setdefault(mistake.exercise, []).append(mistake.code)
        for name, code in self.solutions.items():
            roll = rng.random()
            if roll < p_correct:
                answers[name] = code
            elif roll < 0.9 and by_exercise.get(name):
                answers[name] = rng.choice(by_exercise[name])
            # else: the stub stays
        return self.build(answers)

    @property
    def first(self):
        return self.course_nb.exercises[0]


def _write(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def hostile_notebook(kind: str, sub: Submissions, course_file: Path) -> NotebookNode | str | None:
    """The notebook for one hostile case; a str is raw file text; None means no file."""
    first = sub.first.name
    answers = dict(sub.solutions)
    if kind == "correct":
        return sub.correct()
    if kind == "stub":
        return copy.deepcopy(sub.student)
    if kind == "partly_wrong":
        mistake = next(m for m in sub.course_nb.mistakes if m.exercise == first)
        return sub.build({**answers, first: mistake.code})
    if kind == "missing_notebook":
        return None
    if kind == "malformed_json":
        return nbformat.writes(sub.correct())[:500]
    prefix = {
        "infinite_loop": "while True:\n    pass\n",
        "memory_bomb": "hog = []\nwhile True:\n    hog.append(b'x' * (64 * 1024 * 1024))\n",
        "fork_bomb": (
            "import os, time\nchildren = []\nfor _ in range(2000):\n    try:\n"
            "        pid = os.fork()\n    except OSError:\n        break\n    if pid == 0:\n"
            "        time.sleep(20)\n        os._exit(0)\n    children.append(pid)\n"
            "print('forked', len(children))\nraise RuntimeError('fork bomb')\n"
        ),
        "os_exit": "import os\nos._exit(1)\n",
        "syntax_error": "def broken(:\n    pass\n",
        "network": ("import socket\nsocket.create_connection(('93.184.216.34', 80), timeout=3)\n"),
        "huge_output": "print('spam ' * (12 * 1024 * 1024))\n",
        "kills_processes": (
            "import os, signal\nfor _p in os.listdir('/proc'):\n"
            "    if _p.isdigit() and int(_p) != os.getpid():\n        try:\n"
            "            os.kill(int(_p), signal.SIGKILL)\n        except OSError:\n"
            "            pass\n"
        ),
        "reads_course": (
            "import json\n"
            f"_src = json.load(open({str(course_file)!r}))\n"
            "exec(''.join(''.join(c['source']) for c in _src['cells']"
            f" if c['metadata'].get('nbgrader', {{}}).get('grade_id') == {first!r}))\n"
        ),
    }
    if kind in prefix:
        if kind == "huge_output":
            return sub.build({**answers, first: prefix[kind] + answers[first]})
        if kind in ("reads_course", "kills_processes"):
            return sub.build({**answers, first: prefix[kind]})
        return sub.build({**answers, first: prefix[kind] + answers[first]})
    if kind == "custom_exc":
        handler = (
            "get_ipython().set_custom_exc((BaseException,), "
            "lambda shell, etype, value, tb, tb_offset=None: None)\n"
        )
        return sub.build({**answers, first: handler + "raise NotImplementedError()\n"})
    if kind == "ast_rewrite":
        return sub.build({**answers, first: _FORGE + f"def {first}(x):\n    return None\n"})
    if kind == "clears_outputs":
        hook = (
            "from IPython.display import clear_output\n"
            "def _hide(result):\n    clear_output()\n    print('✅ passed')\n"
            "get_ipython().events.register('post_run_cell', _hide)\n"
        )
        return sub.build({**answers, first: hook + "raise NotImplementedError()\n"})
    if kind == "wrapped_stdout":
        mistake = next(m for m in sub.course_nb.mistakes if m.exercise == first)
        wrap = (
            "import sys\n"
            "class _Rewrite:\n"
            "    def __init__(self, inner):\n        self.inner = inner\n"
            "    def write(self, text):\n"
            "        return self.inner.write(text.replace('incorrect', 'correct'))\n"
            "    def __getattr__(self, name):\n        return getattr(self.inner, name)\n"
            "sys.stdout = _Rewrite(sys.stdout)\n"
        )
        return sub.build({**answers, first: wrap + mistake.code})
    if kind == "forged_guard":
        mistake = next(m for m in sub.course_nb.mistakes if m.exercise == first)
        forge = (
            "print('__mlcourse_integrity__[]')\n"
            "__mlcourse_guard__ = lambda namespace: print('__mlcourse_integrity__[]')\n"
        )
        return sub.build({**answers, first: forge + mistake.code})
    if kind == "lying_answer":
        return sub.build({**answers, first: _LIAR + f"def {first}(x):\n    return _Liar()\n"})
    if kind == "plants_startup":
        return sub.build({**answers, first: answers[first] + "\n\n" + _PLANT})
    if kind == "leaks_hidden":
        return sub.build({**answers, first: _LEAK + f"def {first}(x):\n    _everything()\n"})
    if kind == "duplicated_cells":
        nb = sub.correct()
        sol = copy.deepcopy(nb.cells[sub.first.solution_index])
        test = copy.deepcopy(nb.cells[sub.first.test_index])
        nb.cells.insert(sub.first.test_index + 1, test)
        nb.cells.insert(sub.first.solution_index + 1, sol)
        return nb
    if kind == "monkeypatch":
        mistake = next(m for m in sub.course_nb.mistakes if m.exercise == first)
        patch = (
            "import numpy as np\n"
            "np.isclose = lambda *a, **k: np.ones(np.broadcast(*a[:2]).shape, bool)\n"
            "np.allclose = lambda *a, **k: True\n"
        )
        return sub.build({**answers, first: patch + mistake.code})
    if kind in ("edited_test", "deleted_test", "edited_metadata"):
        mistake = next(m for m in sub.course_nb.mistakes if m.exercise == first)
        if kind == "edited_test":
            nb = sub.build({**answers, first: mistake.code})
            nb.cells[sub.first.test_index].source = "print('all good')"
        else:
            nb = sub.build({name: code for name, code in answers.items() if name != first})
            if kind == "deleted_test":
                del nb.cells[sub.first.test_index]
            else:
                meta = nb.cells[sub.first.test_index].metadata["nbgrader"]
                meta["points"] = 1000
                meta["grade"] = False
                nb.cells[sub.first.test_index].source = "pass"
        return nb
    raise ValueError(f"unknown hostile case {kind!r}")


def make_cohort(
    assignment: str,
    out: Path,
    students: int = 10,
    seed: int = 0,
    hostile: bool = False,
    dangerous: bool | None = None,
) -> list[str]:
    """Write a cohort; return the student ids.

    ``dangerous`` adds the hostile cases that only the sandbox makes safe to
    grade (:data:`NEEDS_SANDBOX`); by default, when bubblewrap works here.
    """
    if dangerous is None:
        from mlcourse.sandbox import bwrap_works

        dangerous = bwrap_works()
    source_dir = paths.course_dir() / assignment
    sources = sorted(source_dir.glob("*.ipynb"))
    if not sources:
        raise ValueError(f"assignment {assignment!r} has no notebooks in {source_dir}")
    subs = [Submissions(path) for path in sources]
    rng = random.Random(seed)
    ids = []
    width = max(3, len(str(students)))
    for i in range(students):
        student = f"student{i + 1:0{width}d}"
        ids.append(student)
        profile = "correct" if i % 5 == 0 else ("stub" if i % 7 == 3 else "mixed")
        for sub in subs:
            if profile == "correct":
                nb = sub.correct()
            elif profile == "stub":
                nb = copy.deepcopy(sub.student)
            else:
                nb = sub.mistaken(rng)
            _write(nb, out / student / assignment / sub.name)
    if hostile:
        for kind in HOSTILE:
            if kind in NEEDS_SANDBOX and not dangerous:
                continue
            student = f"hostile_{kind}"
            ids.append(student)
            (out / student / assignment).mkdir(parents=True, exist_ok=True)
            for index, sub in enumerate(subs):
                path = out / student / assignment / sub.name
                if kind == "symlink_notebook" and index == 0:
                    path.symlink_to(sources[0].resolve())
                    continue
                if kind == "symlink_data" and index == 0:
                    (path.parent / "data.csv").symlink_to(sources[0].resolve())
                if index == 0 and kind not in ("symlink_data", "symlink_notebook"):
                    made = hostile_notebook(kind, sub, sources[0])
                else:
                    made = sub.correct()
                if made is None:
                    continue
                if isinstance(made, str):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(made)
                else:
                    _write(made, path)
    return ids
