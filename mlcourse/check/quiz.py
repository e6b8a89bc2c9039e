"""Graded quiz questions: answer keys, and the explanation that follows an answer.

A key is written once, in the notebook's hidden tests::

    check.key("q_inverse", "b", why={
        "a": "Not quite: ...",   # why a is wrong
        "b": "Right: ...",       # why b is right
        "c": "...",
    })
    check.key("q_variance", 2.5, rtol=1e-3, why="Right: ...",
              wrong={1.25: "That divides by n instead of n - 1."})

For a multiple-choice question ``why`` explains every option, so whatever
the learner picks is explained without giving the right option away. For a
numeric question ``why`` is shown after a right answer; a wrong one is
explained when it matches a known mistake in ``wrong``.
"""

from __future__ import annotations

import math
from typing import Any

from mlcourse.check.outcomes import AuthoringError
from mlcourse.check.problems import normalise_choice


def make_key(
    name: str,
    answer: Any,
    *,
    why: str | dict,
    tol: float | None = None,
    rtol: float | None = None,
    wrong: dict | None = None,
) -> dict:
    """A checked, JSON-able answer key."""
    if isinstance(answer, str):
        letter = normalise_choice(answer)
        if not isinstance(why, dict) or letter not in {normalise_choice(k) for k in why}:
            raise AuthoringError(f"{name}: a multiple-choice key explains every option in why={{}}")
        return {
            "name": name,
            "kind": "choice",
            "answer": letter,
            "why": {normalise_choice(k): str(v) for k, v in why.items()},
        }
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        raise AuthoringError(f"{name}: a key is a letter or a number")
    if not isinstance(why, str) or not why.strip():
        raise AuthoringError(f"{name}: a numeric key needs why='...'")
    return {
        "name": name,
        "kind": "number",
        "answer": float(answer),
        "tol": tol,
        "rtol": 1e-3 if rtol is None and tol is None else rtol,
        "why": why,
        "wrong": [[float(k), str(v)] for k, v in (wrong or {}).items()],
    }


def _near(value: float, target: float, key: dict) -> bool:
    tol = key.get("tol") or 0.0
    rtol = key.get("rtol") or 0.0
    return abs(value - target) <= max(tol, rtol * abs(target))


def judge(t, key: dict) -> str:
    """Judge the learner's answer to ``key['name']``; return the explanation when right.

    Raises :class:`~mlcourse.check.outcomes.Incorrect` (with its explanation)
    when wrong.
    """
    name = key["name"]
    value = t.value(name)
    if key["kind"] == "choice":
        picked = normalise_choice(value)
        explanation = key["why"].get(picked, "")
        t.true(
            picked == key["answer"],
            f"{name} = {value!r} is not the best answer"[:120],
            explanation or "Reread the question, and try another option.",
            case="the quiz answer" if t.hidden else None,
        )
        return key["why"].get(key["answer"], "")
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
        and _near(float(value), key["answer"], key)
    )
    if not ok:
        nudge = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            for bad, why in key.get("wrong", []):
                if _near(float(value), bad, key):
                    nudge = why
                    break
        t.true(
            False,
            f"{name} = {value!r} is not the right value"[:120],
            nudge or "Not quite: redo the computation step by step.",
            case="the quiz answer" if t.hidden else None,
        )
    t.passed += 1
    return key["why"]
