"""The mutant generator: each operator makes the slips it promises, and only valid code."""

from __future__ import annotations

import pytest

from mlcourse.mutants import generate, solution_lines

CELL = '''def f(x, values, seed=0):
    """Docstring: never mutated."""
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    total = 0.0
    for v in values[1:]:
        if v <= x and not v < 0:
            total += abs(v) * 2
    scaled = np.asarray(values, dtype=float).copy()
    return float(total), scaled[:-1].max(axis=0, keepdims=True)
    ### END SOLUTION


def outside(y):
    return y + 1
'''


def keys(cell=CELL):
    return [m.key for m in generate("f", cell)]


@pytest.mark.parametrize(
    "expected",
    [
        "boundary: v <= x -> v < x",
        "boundary: v < 0 -> v <= 0",
        "sign: not v < 0 -> v < 0",
        "logic: v <= x and (not v < 0) -> v <= x or not v < 0",
        "arith: total += abs(v) * 2 -> total -= abs(v) * 2",
        "arith: abs(v) * 2 -> abs(v) / 2",
        "off-by-one: abs(v) * 2 -> abs(v) * 3",
        "off-by-one: values[1:] -> values[2:]",
        "slice: values[1:] -> values[1:-1]",
        "drop-arg: np.random.default_rng(seed) -> np.random.default_rng()",
        "drop-kwarg: np.asarray(values, dtype=float) -> np.asarray(values)",
        "dtype: np.asarray(values, dtype=float) -> np.asarray(values, dtype=int)",
        "drop-abs: abs(v) -> v",
        "drop-copy: np.asarray(values, dtype=float).copy() -> np.asarray(values, dtype=float)",
        "reduction: scaled[:-1].max(axis=0, keepdims=True) -> "
        "scaled[:-1].min(axis=0, keepdims=True)",
        "dtype: float(total) -> total",
        "delete: total = 0.0",
    ],
)
def test_operators_make_their_mutants(expected):
    assert expected in keys()


def test_only_the_solution_region_is_mutated():
    found = keys()
    assert not any("y + 1" in k for k in found)
    assert not any("Docstring" in k for k in found)
    lo, hi = solution_lines(CELL)[0]
    for mutant in generate("f", CELL):
        assert lo <= mutant.line <= hi
        compile(mutant.source, "<mutant>", "exec")


def test_keys_are_unique_and_programs_distinct():
    mutants = generate("f", CELL)
    assert len({m.key for m in mutants}) == len(mutants)
    assert len({m.source for m in mutants}) == len(mutants)


def test_sql_strings_are_mutated():
    cell = (
        "### BEGIN SOLUTION\n"
        'QUERY = """SELECT name, COUNT(*) FROM t LEFT JOIN u ON t.id = u.id\n'
        'WHERE age >= 18 GROUP BY name HAVING COUNT(*) > 2 ORDER BY name DESC LIMIT 5"""\n'
        "### END SOLUTION\n"
    )
    found = [m.source for m in generate("q", cell)]
    assert any("ORDER BY name ASC" in s for s in found)
    assert any(" JOIN u" in s and "LEFT JOIN" not in s for s in found)
    assert any("age > 18" in s for s in found)
    assert any("LIMIT 6" in s for s in found)


def test_no_solution_no_mutants():
    assert generate("f", "def f():\n    return 1\n") == []
    assert generate("f", "### BEGIN SOLUTION\n%%time not python\n### END SOLUTION\n") == []
