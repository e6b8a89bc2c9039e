"""The integrity guard that runs inside a grading kernel.

Before the student's code runs, :func:`make_guard` snapshots what the tests
rely on: the builtins, NumPy's comparison and testing functions, and every
function and class of :mod:`mlcourse.check`. Before each test cell the grader
calls the guard; it prints ``__mlcourse_integrity__`` and a JSON list of what
was replaced since (empty when nothing was). PyTorch, imported later, is
checked by kind: its comparison functions must still be PyTorch's own.
"""

from __future__ import annotations

import builtins
import json
import sys

import numpy
import numpy.testing

import mlcourse.check as _check

TAG = "__mlcourse_integrity__"


def _snapshot() -> dict[str, tuple[object, str, object]]:
    snap: dict[str, tuple[object, str, object]] = {}

    def take(label: str, owner: object, names: list[str]) -> None:
        for name in names:
            if hasattr(owner, name):
                snap[label + name] = (owner, name, getattr(owner, name))

    # ipykernel and IPython manage these themselves (input is replaced per request).
    managed = {"input", "raw_input", "getpass", "exit", "quit", "help", "display", "get_ipython"}
    take(
        "builtins.",
        builtins,
        [n for n in dir(builtins) if not n.startswith("_") and n not in managed],
    )
    numpy_names = ["isclose", "allclose", "array_equal", "asarray", "abs", "isfinite"]
    take("numpy.", numpy, numpy_names + ["all", "any", "max", "ndarray", "testing"])
    asserts = [n for n in dir(numpy.testing) if n.startswith("assert")]
    take("numpy.testing.", numpy.testing, asserts)
    take("mlcourse.check.", _check, [n for n in dir(_check) if not n.startswith("__")])
    methods = [n for n in vars(_check.Exercise) if not n.startswith("__")]
    take("mlcourse.check.Exercise.", _check.Exercise, methods + ["__exit__", "__enter__"])
    take("mlcourse.check.CheckFailed.", _check.CheckFailed, ["__init__", "render"])
    return snap


def make_guard():
    """Snapshot now; return ``guard(namespace)`` that reports replacements."""
    snap = _snapshot()
    modules = {name: sys.modules[name] for name in ("numpy", "numpy.testing", "mlcourse.check")}
    _getattr, _dumps, _print, _type = getattr, json.dumps, print, type

    def guard(namespace: dict) -> None:
        replaced = [
            label
            for label, (owner, name, obj) in snap.items()
            if _getattr(owner, name, None) is not obj
        ]
        replaced += [
            f"sys.modules[{m!r}]" for m, mod in modules.items() if sys.modules.get(m) is not mod
        ]
        if "check" in namespace and namespace["check"] is not _check:
            replaced.append("the name `check`")
        torch = sys.modules.get("torch")
        if torch is not None:
            for name in ("allclose", "isclose", "equal"):
                fn = _getattr(torch, name, None)
                if fn is not None and _type(fn).__name__ != "builtin_function_or_method":
                    replaced.append(f"torch.{name}")
            assert_close = _getattr(_getattr(torch, "testing", None), "assert_close", None)
            module = str(_getattr(assert_close, "__module__", "torch"))
            if assert_close is not None and not module.startswith("torch"):
                replaced.append("torch.testing.assert_close")
        _print(TAG + _dumps(replaced))

    return guard
