"""Quantified resume bullets, filled only with recorded figures.

A template names its figures (``"... at p99 {p99_ms}, held-out accuracy
{test_accuracy}."``); :func:`fill` writes each as :func:`format_figure`
prints it, and returns None when any figure is missing: a bullet is never
written with a gap or a guess. Every filled bullet is then read back by the
provenance check (:func:`mlcourse.portfolio.numbers.unbacked`): a number in
it that no recorded figure explains is a bug in the template, and raises.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from mlcourse.portfolio.collect import ProjectResult
from mlcourse.portfolio.numbers import format_figure, unbacked
from mlcourse.results import Figure


class TemplateError(ValueError):
    """A template that cannot be filled honestly (a bad field, a number of its own)."""


def fields(template: str) -> list[str]:
    """The figure names a template uses, in order, each once."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"not a template: {exc} in {template!r}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise TemplateError(f"a field must be a bare figure name, not {{{name}}}")
        if name not in names:
            names.append(name)
    return names


def backing(figures) -> list[float]:
    """The values a sentence quoting these figures may show: each value, its magnitude
    (a sign is written apart), and a percentage as a fraction (``91%`` is 0.91)."""
    out = []
    for fig in figures:
        out += [fig.value, abs(fig.value)]
        if fig.unit.strip() == "%":
            out.append(fig.value / 100)
    return out


def fill(template: str, figures: Mapping[str, Figure]) -> str | None:
    """The bullet with every figure formatted, or None if any figure is missing."""
    names = fields(template)
    if any(name not in figures for name in names):
        return None
    text = template.format(
        **{name: format_figure(figures[name].value, figures[name].unit) for name in names}
    )
    stray = unbacked(text, backing([figures[name] for name in names]))
    if stray:
        raise TemplateError(f"the bullet quotes {', '.join(stray)}, which no figure backs: {text}")
    return text


def bullets(result: ProjectResult) -> list[str]:
    """The bullets of one project that its recorded figures can fill."""
    written = (fill(template, result.figures) for template in result.project.bullets)
    return [text for text in written if text is not None]


def skipped(result: ProjectResult) -> list[tuple[str, list[str]]]:
    """The templates not written, each with the figures it is missing."""
    out = []
    for template in result.project.bullets:
        missing = [name for name in fields(template) if name not in result.figures]
        if missing:
            out.append((template, missing))
    return out
