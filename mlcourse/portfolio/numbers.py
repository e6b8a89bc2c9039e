"""Numbers as a resume prints them, and the numbers a sentence quotes.

:func:`format_figure` rounds a recorded figure the way a reader wants it:
``0.9132`` is ``0.91``, ``2312.4`` requests per second are ``2,300 req/s``,
``42834.2`` dollars are ``$42,800``. Rounding never changes which figure it
is: :func:`quoted_numbers` reads the numbers back out of a sentence, each
with the interval of values that round to it, and :func:`unbacked` lists
those that no recorded value explains (the provenance check).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Significant digits by unit; any other unit gets :data:`DEFAULT_DIGITS`.
DIGITS = {"$": 3, "ms": 2, "req/s": 2, "": 2}
DEFAULT_DIGITS = 3
#: Units written straight after the number, without a space.
TIGHT_UNITS = {"%"}


def significant(value: float, digits: int) -> str:
    """``value`` rounded to ``digits`` significant digits, with thousands separators.

    Trailing zeros that are significant stay (``0.9`` to two digits is
    ``0.90``); a rounding that gains a digit is redone (``9.96`` is ``10``).
    """
    if digits < 1:
        raise ValueError(f"digits must be at least 1, got {digits}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    decimals = digits - 1 - exponent
    rounded = round(value, decimals)
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > exponent:
        decimals -= 1
        rounded = round(value, decimals)
    if decimals <= 0:
        return f"{int(round(rounded)):,}"
    return f"{rounded:,.{decimals}f}"


def format_figure(value: float, unit: str = "") -> str:
    """A figure as a resume prints it: ``0.91``, ``7.3 ms``, ``2,300 req/s``, ``$42,800``.

    Without a unit (a score or a count), a whole number prints whole
    (``4,128``) and anything else to two significant digits.
    """
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    unit = unit.strip()
    if unit == "" and value.is_integer():
        return f"{int(value):,}"
    text = significant(abs(value), DIGITS.get(unit, DEFAULT_DIGITS))
    sign = "-" if value < 0 and text != "0" else ""
    if unit == "$":
        return f"{sign}${text}"
    if unit == "":
        return f"{sign}{text}"
    if unit in TIGHT_UNITS:
        return f"{sign}{text}{unit}"
    return f"{sign}{text} {unit}"


# A number in a sentence: an optional dollar sign, digits (with thousands
# separators), decimals and a percent sign. Not one: digits inside a word or
# a name (p99, NDCG@10, Python3, v1.2), or a descriptor such as "5-fold".
_NUMBER = re.compile(
    r"(?<![\w@.,$])(?P<dollar>\$)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?(?P<pct>%)?"
    r"(?![\w@]|-[A-Za-z]|\.\d|,\d)"
)


@dataclass(frozen=True)
class Quoted:
    """A number as a sentence writes it, and the values that round to it."""

    text: str
    value: float
    half_width: float

    def backs(self, value: float) -> bool:
        """Whether ``value`` rounds to this number."""
        return abs(value - self.value) <= self.half_width * (1 + 1e-9) + 1e-12


def quoted_numbers(text: str) -> list[Quoted]:
    """Every number ``text`` quotes, in order, with its rounding interval.

    ``0.91`` stands for any value within 0.005 of it; ``2,300`` has two
    significant digits, so it stands for 2,250 to 2,350; ``91%`` is 0.91.
    """
    found = []
    for match in _NUMBER.finditer(text):
        digits = match["int"].replace(",", "")
        decimals = match["dec"]
        if decimals is not None:
            half = 0.5 * 10.0 ** -len(decimals)
            value = float(f"{digits}.{decimals}")
        else:
            zeros = len(digits) - len(digits.rstrip("0")) if digits.strip("0") else 0
            half = 0.5 * 10.0**zeros
            value = float(digits)
        if match["pct"]:
            value, half = value / 100, half / 100
        found.append(Quoted(match.group(0), value, half))
    return found


def unbacked(text: str, values: Iterable[float]) -> list[str]:
    """The numbers ``text`` quotes that no value in ``values`` rounds to, in order."""
    values = [float(v) for v in values]
    return [q.text for q in quoted_numbers(text) if not any(q.backs(v) for v in values)]
