"""Turning values and failures into the short text a learner reads."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcourse.check.codec import Opaque, RefHandle, TensorData

if TYPE_CHECKING:
    from mlcourse.check.outcomes import CheckFailed

_array2string = np.array2string


def short_repr(value: Any) -> str:
    """repr with floats to 6 significant digits, inside tuples and lists too."""
    if isinstance(value, float):
        text = repr(value)
        return text if len(text) <= 10 else f"{value:.6g}"
    if isinstance(value, tuple | list) and any(isinstance(v, float) for v in value):
        inner = ", ".join(short_repr(v) for v in value)
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    return repr(value)


def describe(value: Any, limit: int = 60, values: bool = True) -> str:
    """A short description of a value: arrays by shape and dtype, small ones in full.

    ``values=False`` never shows the numbers (hidden tests).
    """
    if isinstance(value, Opaque):
        # The type's name and repr come from the learner's code: shown only
        # where values are (never in a hidden test's message).
        return f"{value} ({value.repr[:limit]})" if values else "an object that is not data"
    if isinstance(value, RefHandle):
        return f"a {value.type.rsplit('.', 1)[-1]} object"
    if isinstance(value, TensorData):
        return f"tensor of shape {tuple(value.shape)}, dtype {value.torch_dtype}"
    if isinstance(value, np.ndarray):
        if values and value.size <= 6 and value.dtype.kind != "O":
            text = _array2string(value, precision=4, separator=", ")
            return f"array {text.replace(chr(10), '')} (shape {value.shape})"
        return f"array of shape {value.shape}, dtype {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):  # pandas
        return f"{type(value).__name__} of shape {tuple(value.shape)}"
    if hasattr(value, "shape") and hasattr(value, "columns"):
        return f"DataFrame of shape {tuple(value.shape)}"
    if isinstance(value, list | tuple) and (len(value) > 6 or not values):
        return f"{type(value).__name__} of length {len(value)}"
    if not values:
        return f"a {type(value).__name__}"
    text = short_repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def failure_text(failure: CheckFailed) -> str:
    """The plain-text message of a failed check (what the notebook shows)."""
    out = [f"{failure.icon} {failure.exercise}: {failure.title}"]
    lines = list(failure.lines)
    if failure.hint:
        lines.append(("hint", failure.hint))
    if failure.more:
        lines.append(("more help", failure.more))
    width = max((len(k) for k, _ in lines), default=0)
    for key, value in lines:
        out.append(f"   {key + ':':<{width + 1}} {value}")
    return "\n".join(out)


def failure_html(failure: CheckFailed) -> str:
    """The same message as calm HTML (a not-attempted check is not an error)."""
    colours = {
        "not_attempted": ("#fff8e1", "#8a6d00"),
        "incorrect": ("#fdecec", "#a11"),
        "raised": ("#fdecec", "#a11"),
    }
    background, colour = colours.get(failure.key, ("#fdecec", "#a11"))
    rows = list(failure.lines)
    if failure.hint:
        rows.append(("hint", failure.hint))
    if failure.more:
        rows.append(("more help", failure.more))
    body = "".join(
        f"<tr><td style='padding-right:1em;color:#555;vertical-align:top'>{html.escape(k)}</td>"
        f"<td style='white-space:pre-wrap'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return (
        f"<div class='mlcourse-check mlcourse-{failure.key}' style='background:{background};"
        f"border-left:4px solid {colour};padding:.4em .8em;border-radius:3px'>"
        f"<b style='color:{colour}'>{failure.icon} {html.escape(failure.exercise)}: "
        f"{html.escape(failure.title)}</b><table style='margin-top:.3em'>{body}</table></div>"
    )


def passed_html(text: str) -> str:
    return (
        "<div class='mlcourse-check mlcourse-correct' style='background:#eaf6ec;"
        "border-left:4px solid #17692e;padding:.4em .8em;border-radius:3px'>"
        f"{html.escape(text)}</div>"
    )
