"""Trusted verdicts: an exercise's checks run in a process that never ran student code.

The grader (and the gate, to prove both sides agree) calls :func:`verdict`
for each test cell of a submission, at that cell's place in the notebook.
The visible checks come from the package's checks module, the hidden ones
from the course's *source* notebook; both talk to the learner's kernel only
through ``transport`` (a :class:`~mlcourse.check.transport.KernelRPC`), and
get data back. The kernel never sees test code, expected values or hidden
tests, and nothing it does (exception hooks, rewritten cells, wrapped output,
lying objects) can turn a failure into a pass: a test passes only when the
checks here reach their end with at least one positive result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlcourse.check import quiz
from mlcourse.check.judge import Tester
from mlcourse.check.outcomes import AuthoringError, CheckFailed, Outcome
from mlcourse.check.problems import find
from mlcourse.check.runner import help_for, module_namespace, run_checks, run_hidden


@dataclass
class Verdict:
    """The trusted outcome of one test cell."""

    exercise: str
    outcome: Outcome
    message: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    grader_error: str | None = None  # the checks themselves failed: never the student's fault

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.CORRECT and self.grader_error is None


class _TrustedCheck:
    """Stands in for ``check`` while a test cell's hidden source runs here."""

    def __init__(self, transport, notebook: str):
        self.transport = transport
        self.notebook = notebook

    def hidden(self, name: str):
        def decorate(fn) -> None:
            run_hidden(name, fn, self.transport, self.notebook)

        return decorate

    def key(self, name: str, answer, **kwargs) -> None:
        prob = find(name, self.notebook)
        t = Tester(name, self.transport, hidden=True)
        run_checks(t, prob, lambda t: quiz.judge(t, quiz.make_key(name, answer, **kwargs)))


def verdict(notebook: str, exercise: str, hidden_source: str, transport) -> Verdict:
    """Run exercise ``exercise``'s visible checks, then its hidden source, against ``transport``."""
    try:
        prob = find(exercise, notebook)
    except AuthoringError as exc:
        return Verdict(exercise, Outcome.INCORRECT, str(exc), grader_error=str(exc))
    t = Tester(exercise, transport)
    try:
        try:
            run_checks(t, prob, prob.run)
        finally:
            t.release()
        if hidden_source.strip():
            # The checks module's globals, as hidden functions get them (quiz keys
            # may use its imports), and a `check` that talks to the kernel.
            namespace = {
                **module_namespace(prob),
                "check": _TrustedCheck(transport, notebook),
                "__name__": "hidden",
            }
            code = compile(hidden_source, f"<hidden tests of {exercise}>", "exec")
            exec(code, namespace)  # noqa: S102 - the course's own hidden tests
    except CheckFailed as failure:
        failure = help_for(failure, prob)
        return Verdict(exercise, failure.outcome, str(failure), failure.lines)
    except AuthoringError as exc:
        return Verdict(exercise, Outcome.INCORRECT, str(exc), grader_error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug in the hidden source, not the student
        text = f"the hidden tests of {exercise} failed to run: {type(exc).__name__}: {exc}"
        return Verdict(exercise, Outcome.INCORRECT, text[:500], grader_error=text[:500])
    return Verdict(exercise, Outcome.CORRECT, f"✅ {exercise}: passed.")
