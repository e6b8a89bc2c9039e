"""Running a problem's checks: the same steps in the learner's kernel and in the grader.

* :func:`run_checks` runs visible checks, turning a check that tripped over
  a malformed answer into an honest "incorrect";
* :func:`run_hidden` runs a test cell's hidden checks in the checks module's
  namespace, never the notebook's, so they mean the same on both sides;
* :func:`help_for` adds the help a learner sees under a failure.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any

from mlcourse.check.judge import Tester
from mlcourse.check.outcomes import AuthoringError, CheckFailed, Incorrect, NotAttempted
from mlcourse.check.problems import EXERCISES_PACKAGE, Problem, find

shown: dict[str, int] = {}  # exercise -> highest hint level shown in this kernel


def help_for(failure: CheckFailed, prob: Problem) -> CheckFailed:
    """``failure`` with the help a learner gets under it.

    Not attempted: how to get a hint, never the hint itself. Otherwise the
    first hint level, and how to ask for the next.
    """
    name, count = prob.name, len(prob.hints)
    if isinstance(failure, NotAttempted):
        return failure.with_help(None, f'stuck? check.hint("{name}") shows a first hint')
    shown[name] = max(shown.get(name, 0), 1)
    more = f'check.hint("{name}") for hint 2 of {count}'
    return failure.with_help(f"(1 of {count}) {prob.hints[0]}", more)


def run_checks(t: Tester, prob: Problem, fn: Callable[[Tester], Any]) -> Any:
    """``fn(t)``; an unexpected error in the check code on this answer is an Incorrect."""
    before = t.passed
    try:
        result = fn(t)
    except (CheckFailed, AuthoringError):
        raise
    except Exception as exc:  # noqa: BLE001 - the answer broke the check (a None, a tuple...)
        lines = [("called", t.called)] if t.called else []
        lines.append(("problem", f"checking your answer raised {type(exc).__name__}: {exc}"[:300]))
        lines.append(("nudge", "Check the type and shape of what your code returns."))
        raise Incorrect(prob.name, lines) from None
    if t.passed == before:
        raise AuthoringError(f"the checks of {prob.name!r} made no assertion")
    return result


def module_namespace(prob: Problem) -> dict:
    module = importlib.import_module(f"{EXERCISES_PACKAGE}.{prob.notebook}")
    return dict(vars(module))


def run_hidden(name: str, fn, transport, notebook: str | None = None) -> Tester:
    """Run hidden checks ``fn(t)`` against ``transport``, with the checks module's globals."""
    prob = find(name, notebook)
    code = getattr(fn, "__code__", None)
    if code is None or code.co_argcount != 1 or fn.__defaults__ or fn.__closure__:
        raise AuthoringError(f"hidden tests of {name!r} are one function of t, with no defaults")
    bound = types.FunctionType(code, module_namespace(prob), fn.__name__)
    t = Tester(name, transport, hidden=True)
    try:
        run_checks(t, prob, bound)
    finally:
        t.release()
    return t
