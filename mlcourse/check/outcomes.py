"""What a check can conclude: the outcomes, and the failures that carry them.

Four outcomes, one enum. The three failing ones are exceptions, so a failed
check makes its cell fail for nbgrader and CI. Each failure carries the
*lines* of its message (``called``, ``got``, ``expected``, ``nudge``...) as
data; :mod:`mlcourse.check.render` turns them into text, and the grader
turns them into feedback.
"""

from __future__ import annotations

import enum


class Outcome(enum.Enum):
    """The outcome of one check, as written to the progress log."""

    CORRECT = "correct"
    INCORRECT = "incorrect"
    NOT_ATTEMPTED = "not_attempted"
    RAISED = "raised"

    @property
    def passed(self) -> bool:
        return self is Outcome.CORRECT


class AuthoringError(Exception):
    """The check itself is written wrong (a course bug, never the learner's fault)."""


class CheckFailed(Exception):
    """Base class of the three failing outcomes. ``str()`` is the friendly message."""

    outcome = Outcome.INCORRECT
    title = "failed"
    icon = "❌"

    def __init__(
        self,
        exercise: str,
        lines: list[tuple[str, str]],
        hint: str | None = None,
        more: str | None = None,
    ):
        self.exercise = exercise
        self.lines = list(lines)
        self.hint = hint  # the first hint level, shown with the failure
        self.more = more  # how to ask for more help
        super().__init__(self.render())

    def with_help(self, hint: str | None, more: str | None) -> CheckFailed:
        """The same failure, with the help lines a learner should see under it."""
        return type(self)(self.exercise, self.lines, hint=hint, more=more)

    def render(self) -> str:
        from mlcourse.check.render import failure_text

        return failure_text(self)

    @property
    def key(self) -> str:  # the outcome as recorded in the progress log
        return self.outcome.value


class Incorrect(CheckFailed):
    """The learner's answer ran but is wrong."""

    outcome = Outcome.INCORRECT
    title = "incorrect"


class NotAttempted(CheckFailed):
    """The stub is still in place, or the learner's names are not defined yet."""

    outcome = Outcome.NOT_ATTEMPTED
    title = "not attempted yet"
    icon = "✏️"


class CodeRaised(CheckFailed):
    """The learner's code raised an exception while being checked."""

    outcome = Outcome.RAISED
    title = "your code raised an error"
    icon = "💥"


#: Exception names that mean "a check failed" (used by the gate and the grader).
CHECK_ERRORS = frozenset({"Incorrect", "NotAttempted", "CodeRaised"})
