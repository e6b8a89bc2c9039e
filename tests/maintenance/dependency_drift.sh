#!/usr/bin/env bash
# Dependency drift: install the NEWEST versions that pyproject.toml allows into a
# fresh venv, and run the gate there. A maintainer sees an upgrade break a
# notebook before learners do (the anchors' users complain most about exactly
# that). Not part of CI: run it by hand, for example monthly.
#
#   tests/maintenance/dependency_drift.sh [GATE ARGS...]     e.g. tests/maintenance/dependency_drift.sh course/01_foundations
#
# It prints the versions it got, and the gate's table; the exit code is the gate's.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${DRIFT_VENV:-$(mktemp -d)/drift-venv}"
python3.11 -m venv "$venv"
. "$venv/bin/activate"
pip install --upgrade --quiet pip
# --upgrade-strategy eager: every dependency at the newest version the ranges allow
pip install --quiet --upgrade --upgrade-strategy eager -e ".[dev]"
echo "== versions installed =="
pip list --format=freeze | grep -iE '^(numpy|pandas|scipy|scikit-learn|torch|matplotlib|jupyterlab|nbgrader|nbclient|fastapi|transformers|lightgbm|mlflow|shap|fairlearn|onnxruntime)=='
echo "== the gate, mutants off (set MUTANTS=changed to include them) =="
mlcourse check --mutants "${MUTANTS:-off}" "$@"
