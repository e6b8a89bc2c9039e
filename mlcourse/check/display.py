"""Showing checks in a notebook: friendly failures instead of tracebacks.

A failed check is an exception, so its cell fails for nbgrader and CI. In
IPython the traceback is replaced by the check's own few lines (what was
called, what came back, a nudge and the first hint).
"""

from __future__ import annotations

from mlcourse.check.outcomes import CheckFailed


def _show_check_failure(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """IPython custom exception handler: the friendly message, no traceback.

    IPython ignores the return value, so the handler shows the error itself:
    in a kernel, a normal ``error`` output (ename ``Incorrect``,
    ``NotAttempted`` or ``CodeRaised``).
    """
    stb = str(value).splitlines()
    shell._showtraceback(etype, value, stb)
    return stb


def install() -> bool:
    """Show check failures briefly in the running IPython kernel (safe to repeat)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the course
        return False
    shell = get_ipython()
    if shell is None:
        return False
    from mlcourse.check import legacy

    shell.set_custom_exc((CheckFailed, legacy.CheckFailed), _show_check_failure)
    return True


def say(text: str) -> None:
    """A line for the learner (a check passed, a hint, an explanation)."""
    print(text)


def show_markdown(text: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
            return
    except ImportError:  # pragma: no cover
        pass
    print(text)
