"""CI runs exactly the README's test command."""

import re

from conftest import REPO


def _commands(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    blocks = _commands(readme)
    test_command = next(b for b in blocks if b.strip().endswith("pytest"))
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert test_command.strip() in [line.strip() for line in ci]


def test_readme_has_learner_start_command():
    readme = (REPO / "README.md").read_text()
    assert any(b.strip().endswith("mlcourse start") for b in _commands(readme))
