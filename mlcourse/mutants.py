"""Automatic mutants of an exercise's solution, for ``mlcourse check --mutants``.

A *mutant* is the solution with one small, plausible change: the kind of
slip a learner who is almost right makes. The gate runs every mutant like a
mistake (in the solution run's kernel) and expects the exercise's tests to
fail on it. A mutant that survives means the tests cannot tell that slip
from the solution: strengthen them, or, if no test could ever tell (the
change does not change behaviour), record it as equivalent, with the reason,
in the notebook's ``.mistakes.toml``::

    [[equivalent]]
    exercise = "solve"
    mutant = "boundary: pivot != j -> pivot == j"
    why = "Swapping a row with itself changes nothing."

The operators (no mutation library fits cells of a notebook, so this one is
small and tested in ``tests/test_mutants.py``):

============== ==========================================================
boundary       ``<`` to ``<=`` and back, ``>`` to ``>=``, ``==`` to ``!=``, ``in`` to ``not in``
arith          ``+`` and ``-`` swapped, ``*`` and ``/``, ``//`` to ``/``, ``**`` to ``*``
sign           a unary minus or ``not`` dropped
logic          ``and`` and ``or`` swapped
off-by-one     an integer constant plus or minus one
slice          a slice bound plus or minus one, or an open end closed
swap-args      the first two positional arguments of a call swapped
drop-arg       the last positional argument dropped (a seed, a dimension...)
drop-kwarg     a keyword argument dropped (``keepdims``, ``random_state``, ``ddof``...)
drop-abs       ``abs(x)``, ``np.abs(x)`` to ``x``
drop-copy      ``x.copy()``, ``x.clone()`` to ``x``
reduction      ``max``/``min``, ``argmax``/``argmin``, ``mean``/``sum`` swapped
dtype          ``float``/``int`` swapped as a dtype, 32/64-bit swapped, a returned
               ``float(x)`` or ``int(x)`` to ``x``
delete         a statement replaced by ``pass``
sql            in a SQL string: ``ASC``/``DESC``, ``LEFT JOIN`` to ``JOIN``, a
               comparison's boundary, ``AND``/``OR``, ``MIN``/``MAX``, ``DISTINCT``
               dropped, a number plus or minus one
============== ==========================================================

Each mutant has a stable *key*, ``"<operator>: <before> -> <after>"`` (with
``" #2"`` for a second identical change), used by the record of results and
by ``[[equivalent]]`` entries.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass

from mlcourse.notebook import BEGIN_SOLUTION, END_SOLUTION

#: Bump when the operators change: every record is then out of date.
OPERATORS_VERSION = 2

_COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_ARITH = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Pow: ast.Mult,
}
_REDUCTIONS = {
    "max": "min",
    "min": "max",
    "argmax": "argmin",
    "argmin": "argmax",
    "nanmax": "nanmin",
    "nanmin": "nanmax",
    "mean": "sum",
    "sum": "mean",
    "amax": "amin",
    "amin": "amax",
}
_DTYPE_ATTRS = {
    "float64": "float32",
    "float32": "float64",
    "int64": "int32",
    "int32": "int64",
    "double": "float",
    "long": "float32",
}
_SEED_CALLS = {"default_rng", "RandomState", "manual_seed", "seed", "Generator", "PCG64"}
_ABS = {"abs", "fabs", "absolute"}
_COPY = {"copy", "clone", "deepcopy"}
_SQL_SWAPS = [
    (r"\bASC\b", "DESC"),
    (r"\bDESC\b", "ASC"),
    (r"\bLEFT\s+JOIN\b", "JOIN"),
    (r"\bAND\b", "OR"),
    (r"\bOR\b", "AND"),
    (r"\bMAX\s*\(", "MIN("),
    (r"\bMIN\s*\(", "MAX("),
    (r"\bSUM\s*\(", "AVG("),
    (r"\bAVG\s*\(", "SUM("),
    (r"\bDISTINCT\s+", ""),
    (r"\bDENSE_RANK\b", "RANK"),
    (r"(?<![<>!=])>=", ">"),
    (r"(?<![<>!=])<=", "<"),
    (r"(?<![<>!=-])>(?!=)", ">="),
    (r"(?<![<>!=])<(?![=>])", "<="),
    (r"\bHAVING\b", "WHERE"),
]


@dataclass
class Mutant:
    exercise: str
    op: str
    key: str
    line: int  # line of the change in the solution cell (1-based)
    source: str  # the whole mutated solution cell


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def solution_lines(source: str) -> list[tuple[int, int]]:
    """Line ranges (first, last; 1-based, inclusive) strictly inside the solution markers."""
    ranges = []
    start = None
    for number, line in enumerate(source.splitlines(), start=1):
        if BEGIN_SOLUTION in line:
            start = number + 1
        elif END_SOLUTION in line and start is not None:
            ranges.append((start, number - 1))
            start = None
    return ranges


def _inside(node: ast.AST, ranges: list[tuple[int, int]]) -> bool:
    first = getattr(node, "lineno", None)
    last = getattr(node, "end_lineno", None)
    if first is None or last is None:
        return False
    return any(lo <= first and last <= hi for lo, hi in ranges)


def _children(node: ast.AST) -> Iterator[tuple[str, int | None, ast.AST]]:
    for name, value in ast.iter_fields(node):
        if isinstance(value, ast.AST):
            yield name, None, value
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield name, i, item


def _numbered(tree: ast.AST) -> list[ast.AST]:
    """Every node in a fixed, depth-first order (the same on a deep copy)."""
    order: list[ast.AST] = []

    def walk(node: ast.AST) -> None:
        order.append(node)
        for _, _, child in _children(node):
            walk(child)

    walk(tree)
    return order


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    parents = {}
    for node in _numbered(tree):
        for name, index, child in _children(node):
            parents[id(child)] = (node, name, index)
    return parents


def _is_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and parent is not None
        and isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module)
        and getattr(parent, "body", [None])[0] is node
    )


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _plus(node: ast.expr, delta: int) -> ast.expr:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return ast.Constant(node.value + delta)
    op = ast.Add() if delta > 0 else ast.Sub()
    return ast.BinOp(left=copy.deepcopy(node), op=op, right=ast.Constant(abs(delta)))


def _alternatives(node: ast.AST, parent: ast.AST | None) -> list[tuple[str, object]]:
    """(operator, how) pairs for one node; ``how(node_copy)`` returns the replacement."""
    alts: list[tuple[str, object]] = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            new = _COMPARE.get(type(op))
            if new is not None:

                def how(n, i=i, new=new):
                    n.ops[i] = new()
                    return n

                alts.append(("boundary", how))
    elif isinstance(node, ast.BinOp | ast.AugAssign):
        new = _ARITH.get(type(node.op))
        if new is not None and not (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Add)
            and any(
                isinstance(side, ast.Constant) and isinstance(side.value, str)
                for side in (node.left, node.right)
            )
        ):

            def how(n, new=new):
                n.op = new()
                return n

            alts.append(("arith", how))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
        if not (isinstance(node.operand, ast.Constant) and isinstance(node.op, ast.USub)):
            alts.append(("sign", lambda n: n.operand))
    elif isinstance(node, ast.BoolOp):

        def how(n):
            n.op = ast.Or() if isinstance(n.op, ast.And) else ast.And()
            return n

        alts.append(("logic", how))
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        if not (isinstance(parent, ast.UnaryOp)):
            alts.append(("off-by-one", lambda n: ast.Constant(n.value + 1)))
            alts.append(("off-by-one", lambda n: ast.Constant(n.value - 1)))
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
        if re.search(r"\bselect\b", text, re.IGNORECASE) and len(text) > 15:
            for pattern, repl in _SQL_SWAPS:
                for match in re.finditer(pattern, text, re.IGNORECASE):

                    def how(n, m=match, repl=repl):
                        return ast.Constant(n.value[: m.start()] + repl + n.value[m.end() :])

                    alts.append(("sql", how))
            for match in re.finditer(r"(?<![\w.])\d+(?![\w.])", text):
                for delta in (1, -1):

                    def how(n, m=match, d=delta):
                        value = str(int(m.group()) + d)
                        return ast.Constant(n.value[: m.start()] + value + n.value[m.end() :])

                    alts.append(("sql", how))
        elif text in ("float32", "float64", "int32", "int64"):
            alts.append(("dtype", lambda n: ast.Constant(_DTYPE_ATTRS[n.value])))
    elif isinstance(node, ast.Slice):
        for bound in ("lower", "upper"):
            value = getattr(node, bound)
            if value is None:
                repl = ast.Constant(1) if bound == "lower" else ast.Constant(-1)

                def how(n, bound=bound, repl=repl):
                    setattr(n, bound, repl)
                    return n

                alts.append(("slice", how))
            elif not (isinstance(value, ast.Constant) and type(value.value) is int):
                for delta in (1, -1):

                    def how(n, bound=bound, delta=delta):
                        setattr(n, bound, _plus(getattr(n, bound), delta))
                        return n

                    alts.append(("slice", how))
    elif isinstance(node, ast.Call):
        name = _call_name(node)
        positional = [a for a in node.args if not isinstance(a, ast.Starred)]
        if len(positional) == len(node.args) and len(node.args) >= 2:

            def how(n):
                n.args[0], n.args[1] = n.args[1], n.args[0]
                return n

            alts.append(("swap-args", how))
        if node.args and (len(node.args) >= 2 or name in _SEED_CALLS):

            def how(n):
                n.args = n.args[:-1]
                return n

            alts.append(("drop-arg", how))
        for i, kw in enumerate(node.keywords):
            if kw.arg is not None:

                def how(n, i=i):
                    n.keywords = n.keywords[:i] + n.keywords[i + 1 :]
                    return n

                alts.append(("drop-kwarg", how))
        if name in _ABS and len(node.args) == 1 and not node.keywords:
            alts.append(("drop-abs", lambda n: n.args[0]))
        if name in _ABS and not node.args and isinstance(node.func, ast.Attribute):
            alts.append(("drop-abs", lambda n: n.func.value))
        if name in _COPY and isinstance(node.func, ast.Attribute) and not node.args:
            alts.append(("drop-copy", lambda n: n.func.value))
        if name in _COPY and isinstance(node.func, ast.Attribute) and len(node.args) == 1:
            if isinstance(node.func.value, ast.Name) and node.func.value.id == "copy":
                alts.append(("drop-copy", lambda n: n.args[0]))
        if name in _REDUCTIONS and (isinstance(node.func, ast.Attribute) or name in ("max", "min")):

            def how(n, new=_REDUCTIONS[name]):
                if isinstance(n.func, ast.Attribute):
                    n.func.attr = new
                else:
                    n.func.id = new
                return n

            alts.append(("reduction", how))
        if (
            name in ("float", "int")
            and isinstance(node.func, ast.Name)
            and len(node.args) == 1
            and isinstance(parent, ast.Return | ast.Tuple)
        ):
            alts.append(("dtype", lambda n: n.args[0]))
    elif (
        isinstance(node, ast.Name)
        and node.id in ("float", "int")
        and isinstance(parent, ast.Call | ast.keyword)
    ):
        if not (isinstance(parent, ast.Call) and parent.func is node):
            alts.append(("dtype", lambda n: ast.Name("int" if n.id == "float" else "float")))
    elif isinstance(node, ast.Attribute) and node.attr in _DTYPE_ATTRS:
        if isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy", "torch"):

            def how(n):
                n.attr = _DTYPE_ATTRS[n.attr]
                return n

            alts.append(("dtype", how))
    if isinstance(node, ast.stmt) and not isinstance(node, ast.Pass):
        if not _is_docstring(node, parent) and not isinstance(
            node,
            ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef | ast.Import | ast.ImportFrom,
        ):
            alts.append(("delete", lambda n: ast.Pass()))
    return alts


def _replace(tree: ast.AST, target: ast.AST, new: ast.AST) -> None:
    parent, name, index = _parents(tree)[id(target)]
    if index is None:
        setattr(parent, name, new)
    else:
        getattr(parent, name)[index] = new


_LEAVES = (ast.Constant, ast.Name, ast.Attribute, ast.Slice)


def _change(before: str, after: str, limit: int = 60) -> str:
    """``before -> after``, cut to a window around where they differ."""
    before, after = " ".join(before.split()), " ".join(after.split())
    if len(before) <= limit and len(after) <= limit:
        return f"{before} -> {after}"
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while (
        end < min(len(before), len(after)) - start
        and before[len(before) - 1 - end] == after[len(after) - 1 - end]
    ):
        end += 1
    lo = max(0, start - 20)
    b = before[lo : max(len(before) - end + 20, start + 1)]
    a = after[lo : max(len(after) - end + 20, start + 1)]
    prefix = "..." if lo else ""
    return f"{prefix}{_short(b, limit)} -> {prefix}{_short(a, limit)}"


def _text(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # noqa: BLE001
        return type(node).__name__


def generate(exercise: str, source: str) -> list[Mutant]:
    """Every mutant of the solution regions of a solution cell's ``source``."""
    ranges = solution_lines(source)
    if not ranges:
        return []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    order = _numbered(tree)
    parents = _parents(tree)
    mutants: list[Mutant] = []
    seen: dict[str, int] = {}
    for position, node in enumerate(order):
        if not _inside(node, ranges):
            continue
        parent = parents.get(id(node), (None, None, None))[0]
        for op, how in _alternatives(node, parent):
            clone = copy.deepcopy(tree)
            target = _numbered(clone)[position]
            # A leaf is described by the expression around it ("U.shape[0]", not "0").
            context = None
            if isinstance(target, _LEAVES):
                clone_parents = _parents(clone)
                up = clone_parents.get(id(target), (None,))[0]
                while isinstance(up, ast.keyword | ast.Slice | ast.Tuple):
                    up = clone_parents.get(id(up), (None,))[0]
                if isinstance(up, ast.expr):
                    context = up
            before = _text(context if context is not None else target)
            try:
                replacement = how(copy.deepcopy(target))
                if isinstance(target, ast.stmt):
                    before = before.splitlines()[0] if before else before
                _replace(clone, target, replacement)
                after = _text(context) if context is not None else _text(replacement)
                ast.fix_missing_locations(clone)
                new_source = ast.unparse(clone)
                compile(new_source, "<mutant>", "exec")
            except Exception:  # noqa: BLE001 - an alternative that makes no valid code
                continue
            if op == "delete":
                key = f"delete: {_short(before)}"
            else:
                key = f"{op}: {_change(before, after)}"
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                key += f" #{seen[key]}"
            mutants.append(Mutant(exercise, op, key, getattr(node, "lineno", 0), new_source))
    # Two different changes can give the same code: run each program once.
    unique: dict[str, Mutant] = {}
    for mutant in mutants:
        unique.setdefault(mutant.source, mutant)
    original = ast.unparse(tree)
    return [m for m in unique.values() if m.source != original]
