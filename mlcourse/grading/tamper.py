"""A static scan for tampering: student code that patches what checks rely on.

Verdicts are decided outside the student's kernel (:mod:`mlcourse.check.trusted`),
so patching NumPy or the checks in the kernel cannot change a grade. The scan
still flags such code for an instructor's review, and flagged work earns no
points: a student who tries to fool the grader has not done the exercise.
"""

from __future__ import annotations

import ast

from nbformat import NotebookNode

PROTECTED_MODULES = {"numpy", "torch", "builtins", "math", "mlcourse", "sys", "unittest"}
PROTECTED_NAMES = {"check", "__builtins__"}


def _module_aliases(tree: ast.AST) -> dict[str, str]:
    aliases = {"np": "numpy", "numpy": "numpy", "torch": "torch", "builtins": "builtins"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    if isinstance(node, ast.Call):
        node = node.func
        while isinstance(node, ast.Attribute):
            node = node.value
    return node.id if isinstance(node, ast.Name) else None


def scan_for_tampering(nb: NotebookNode) -> list[str]:
    """Reasons to flag: student code that patches what the tests rely on."""
    reasons: list[str] = []
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade"):
            continue  # test cells come from the gradebook, not from the student
        source = "\n".join(
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # it fails to run; that costs the student, it is not tampering
        aliases = _module_aliases(tree)

        def protected(name: str | None, aliases: dict[str, str] = aliases) -> bool:
            if name is None:
                return False
            if name in PROTECTED_NAMES:
                return True
            return aliases.get(name, "").split(".")[0] in PROTECTED_MODULES

        where = f"cell {index + 1}"
        for node in ast.walk(tree):
            targets: list[ast.AST] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.Delete):
                targets = node.targets
            for target in targets:
                if isinstance(target, ast.Attribute | ast.Subscript) and protected(
                    _root_name(target)
                ):
                    reasons.append(
                        f"{where}, line {node.lineno}: assigns to "
                        f"{ast.unparse(target)} (patching what the tests use)"
                    )
                elif isinstance(target, ast.Name) and target.id in PROTECTED_NAMES:
                    reasons.append(f"{where}, line {node.lineno}: rebinds `{target.id}`")
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else None
                if name == "setattr" and node.args and protected(_root_name(node.args[0])):
                    reasons.append(
                        f"{where}, line {node.lineno}: setattr on {ast.unparse(node.args[0])}"
                    )
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr in ("setattr", "__setattr__", "update", "__setitem__")
                    and _root_name(func.value) in ("sys", "builtins", "__builtins__", "globals")
                ):
                    reasons.append(f"{where}, line {node.lineno}: {ast.unparse(func)}(...)")
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in PROTECTED_NAMES:
                reasons.append(f"{where}, line {node.lineno}: redefines `{node.name}`")
            if isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    if (alias.asname or alias.name) == "check" and getattr(
                        node, "module", None
                    ) != "mlcourse":
                        reasons.append(f"{where}, line {node.lineno}: imports something as `check`")
    return reasons
