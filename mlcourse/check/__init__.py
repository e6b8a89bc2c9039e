"""The course's checks, as learners and authors use them.

In a notebook::

    from mlcourse import check

    check("matmul")              # run the visible checks of exercise matmul
    check.hint("matmul")         # the next hint level (check.hint("matmul", 2): level 2)
    check.solution("matmul")     # the worked solution, in a self-study workspace

A test cell in a source notebook is one visible line, then hidden tests that
nbgrader strips from the student version::

    check("matmul")
    ### BEGIN HIDDEN TESTS
    @check.hidden("matmul")
    def _(t):
        ...
    ### END HIDDEN TESTS

The checks themselves live in ``mlcourse/exercises/<notebook>.py`` (see
:mod:`mlcourse.check.problems`) and are written against a
:class:`~mlcourse.check.judge.Tester`. They see only *data* from the learner's
side (:mod:`mlcourse.check.codec`), so the same checks run in the learner's
kernel and in the trusted grader (:mod:`mlcourse.check.trusted`).

The package's modules, one concern each:

* :mod:`~mlcourse.check.outcomes`: the outcome enum and failures;
* :mod:`~mlcourse.check.judge`: the Tester's assertions;
* :mod:`~mlcourse.check.render`: messages;
* :mod:`~mlcourse.check.display`: IPython display;
* :mod:`~mlcourse.check.events`: the progress event log;
* :mod:`~mlcourse.check.codec`, :mod:`~mlcourse.check.learner`,
  :mod:`~mlcourse.check.transport`: what crosses between the two sides;
* :mod:`~mlcourse.check.problems`, :mod:`~mlcourse.check.quiz`,
  :mod:`~mlcourse.check.reveal`: problems, quiz keys, worked solutions.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from mlcourse.check import display, events, quiz, reveal
from mlcourse.check.judge import Ref, Tester
from mlcourse.check.outcomes import (
    CHECK_ERRORS,
    AuthoringError,
    CheckFailed,
    CodeRaised,
    Incorrect,
    NotAttempted,
    Outcome,
)
from mlcourse.check.problems import Problem, choice, find, number, problem
from mlcourse.check.render import describe
from mlcourse.check.runner import help_for, run_checks, run_hidden
from mlcourse.check.runner import shown as _shown
from mlcourse.check.transport import InProcess

__all__ = [
    "CHECK_ERRORS",
    "AuthoringError",
    "CheckFailed",
    "CodeRaised",
    "Incorrect",
    "NotAttempted",
    "Outcome",
    "Problem",
    "Ref",
    "Tester",
    "choice",
    "describe",
    "hidden",
    "hint",
    "key",
    "number",
    "problem",
    "run",
    "solution",
]


def run(name: str, namespace: dict) -> None:
    """Run exercise ``name``'s visible checks against ``namespace`` (the learner's globals)."""
    prob = find(name)
    t = Tester(name, InProcess(namespace))
    explanation = None
    try:
        run_checks(t, prob, prob.run)
        if prob.kind in ("choice", "number"):
            data = reveal.load(prob.notebook)
            key_ = (data or {}).get("keys", {}).get(name)
            if key_:
                explanation = run_checks(t, prob, lambda t: quiz.judge(t, key_))
            else:
                explanation = False
    except CheckFailed as failure:
        events.record(name, failure.outcome)
        raise help_for(failure, prob) from None
    finally:
        t.release()
    events.record(name, Outcome.CORRECT)
    if explanation is False:
        answer = namespace.get(name)
        display.say(
            f"📝 {name}: your answer {answer!r} is recorded; it is marked when your "
            "notebook is graded."
        )
    elif explanation:
        display.passed(f"✅ {name}: right. {explanation}")
    else:
        display.passed(f"✅ {name}: visible checks passed; hidden tests run at grading.")


def hint(name: str, level: int | None = None) -> None:
    """Show a hint for exercise ``name``: the next level, or ``level``."""
    prob = find(name)
    count = len(prob.hints)
    if level is None:
        level = min(_shown.get(name, 0) + 1, count)
    if not isinstance(level, int) or not 1 <= level <= count:
        display.say(f"{name} has hint levels 1 to {count}; try check.hint({name!r}, 1).")
        return
    _shown[name] = max(_shown.get(name, 0), level)
    lines = [f"💡 {name}, hint {level} of {count}: {prob.hints[level - 1]}"]
    if level < count:
        lines.append(f'   more: check.hint("{name}", {level + 1})')
    else:
        lines.append("   That is the last hint.")
        if reveal.load(prob.notebook) is not None:
            lines.append(
                f'   Still stuck after trying? check.solution("{name}") shows a worked solution.'
            )
    display.say("\n".join(lines))
    events.record(name, kind=events.Kind.HINT, level=level)


def solution(name: str, tried: bool = False) -> None:
    """Show the worked solution of ``name`` (self-study workspaces only).

    Offered once the exercise has passed, or with ``tried=True`` after a real
    attempt. The view is recorded in the progress log.
    """
    prob = find(name)
    data = reveal.load(prob.notebook)
    entry = (data or {}).get("solutions", {}).get(name)
    if entry is None:
        display.say(
            "Worked solutions come with a self-study workspace (`mlcourse start`, or Binder). "
            "In a graded course, ask your instructor."
        )
        return
    if not (tried or reveal.passed_before(name)):
        display.say(
            f"You have not passed `{name}` yet. A worked solution teaches most after a real "
            f"attempt: try the hints first (check.hint({name!r})).\n"
            f"If you have tried and want to see it now: check.solution({name!r}, tried=True)"
        )
        return
    parts = [f"**Worked solution: `{name}`**"]
    if entry.get("explain"):
        parts.append(str(entry["explain"]))
    parts.append("```python\n" + str(entry.get("code", "")).rstrip() + "\n```")
    display.show_markdown("\n\n".join(parts))
    events.record(name, kind=events.Kind.SOLUTION)


def hidden(name: str):
    """Decorator for a test cell's hidden checks: run them now, against the learner's side.

    The function runs with the checks module's globals, not the notebook's, so
    that it means the same here and in the trusted grader.
    """
    namespace = sys._getframe(1).f_globals

    def decorate(fn) -> None:
        prob = find(name)
        try:
            run_hidden(name, fn, InProcess(namespace))
        except CheckFailed as failure:
            events.record(name, failure.outcome)
            raise help_for(failure, prob) from None
        display.passed(f"✅ {name}: hidden tests passed.")

    return decorate


def key(name: str, answer: Any, **kwargs: Any) -> None:
    """A quiz question's answer key, in hidden tests: judge the learner's answer now."""
    namespace = sys._getframe(1).f_globals
    prob = find(name)
    answer_key = quiz.make_key(name, answer, **kwargs)
    t = Tester(name, InProcess(namespace), hidden=True)
    try:
        explanation = run_checks(t, prob, lambda t: quiz.judge(t, answer_key))
    except CheckFailed as failure:
        events.record(name, failure.outcome)
        raise help_for(failure, prob) from None
    display.passed(f"✅ {name}: right. {explanation}")


class _CheckModule(types.ModuleType):
    """Lets notebooks call the module itself: ``check("matmul")``."""

    def __call__(self, name: str) -> None:
        return run(name, sys._getframe(1).f_globals)


sys.modules[__name__].__class__ = _CheckModule
display.install()
