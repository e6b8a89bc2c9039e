"""pyproject.toml and environment.yml list the same dependencies."""

import re
import tomllib

import yaml

from conftest import REPO

# conda-forge names that differ from the PyPI names
CONDA_TO_PYPI = {"pytorch-cpu": "torch", "vadersentiment": "vadersentiment"}


def _name(requirement: str) -> str:
    name = re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0]
    return name.lower().replace("_", "-")


def _version(requirement: str) -> str:
    return requirement.strip()[len(_name(requirement)) :].split("#")[0].strip()


def test_environment_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pypi = {_name(r): _version(r) for r in project["dependencies"]}
    for extra, requirements in project["optional-dependencies"].items():
        if extra in ("dev", "postgres", "site"):  # tools, not the course
            continue
        pypi.update({_name(r): _version(r) for r in requirements})
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda: dict[str, str] = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            name = _name(item)
            if name in ("python", "pip"):
                continue
            conda[CONDA_TO_PYPI.get(name, name)] = _version(item)
    assert set(conda) == set(pypi), (
        f"only in environment.yml: {sorted(set(conda) - set(pypi))}; "
        f"only in pyproject.toml: {sorted(set(pypi) - set(conda))}"
    )
    assert pypi["torch"] == "==2.13.0", "torch must be pinned to the 2.13.0 CPU build"
    assert conda["torch"] == "=2.13.0"


def test_environment_pins_python_311():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    assert env["channels"] == ["conda-forge"]


def test_dev_installs_every_extra_the_course_needs():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    dev = {_name(r) for r in extras["dev"]}
    for extra, requirements in extras.items():
        if extra != "dev":
            assert {_name(r) for r in requirements} <= dev, extra
