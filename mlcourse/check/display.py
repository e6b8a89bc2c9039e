"""Showing checks in a notebook: friendly messages in calm colours, not tracebacks.

A failed check is an exception, so its cell fails for nbgrader and CI. In
IPython the traceback is replaced by the check's own few lines (what was
called, what came back, a nudge and the first hint), shown as a coloured box:
amber for "not attempted yet" (nothing is wrong yet), red for a wrong answer
or an error, green for a pass. The error itself stays in the cell's outputs,
reduced to a thin line, so nbgrader and CI still see the cell fail.
"""

from __future__ import annotations

from mlcourse.check.outcomes import CheckFailed

_THIN = "\x1b[0m"  # an error output that draws as a thin line under the message


def _in_ipython():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    return get_ipython()


def _show_check_failure(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """IPython custom exception handler: the friendly message, no traceback.

    IPython ignores the return value, so the handler shows the error itself:
    in a kernel, a box with the message, then a normal ``error`` output (ename
    ``Incorrect``, ``NotAttempted`` or ``CodeRaised``; evalue the message).
    """
    from mlcourse.check.render import failure_html

    text = str(value)
    if isinstance(value, CheckFailed):
        try:
            from IPython.display import display as show

            show({"text/html": failure_html(value), "text/plain": text}, raw=True)
            stb = [_THIN]
        except Exception:  # noqa: BLE001 - fall back to plain lines
            stb = text.splitlines()
    else:
        stb = text.splitlines()
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
    shell.set_custom_exc((CheckFailed,), _show_check_failure)
    return True


def say(text: str) -> None:
    """A line for the learner (a hint, an explanation)."""
    print(text)


def passed(text: str) -> None:
    """A check passed: a calm green box in a notebook, a line elsewhere."""
    if _in_ipython() is not None:
        from IPython.display import display as show

        from mlcourse.check.render import passed_html

        show({"text/html": passed_html(text), "text/plain": text}, raw=True)
        return
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
