"""What the gate and the grader warm before a notebook runs, read from its text."""

import pytest

from mlcourse import prefetch

REPO_COURSE = prefetch.Path(__file__).resolve().parents[1] / "course"


@pytest.mark.parametrize(
    ("rel", "data", "gpt", "rag"),
    [
        ("01_foundations/python_sql.ipynb", "titanic", False, False),
        ("03_specialize/transformer_from_scratch.ipynb", None, True, False),
        ("03_specialize/rag_and_agents.ipynb", None, True, True),
        ("01_foundations/linear_algebra.ipynb", None, False, False),
    ],
)
def test_needs_are_read_from_the_notebook_and_its_checks(rel, data, gpt, rag):
    got = prefetch.needs([REPO_COURSE / rel])
    assert got.gpt is gpt
    assert got.rag is rag
    if data:
        assert data in got.data


def test_warm_builds_nothing_for_a_notebook_that_needs_nothing(tmp_path):
    nb = tmp_path / "plain.ipynb"
    nb.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert prefetch.warm([nb]) == prefetch.Needs()
