#!/usr/bin/env bash
# Set up the test environment (idempotent), lint, type-check and run the whole test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh -k gui
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh test
venv="${VENV:-$root/.venv}"

"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/mypy"
# The layer contracts in pyproject.toml (no package cycles; the app never imports training).
"$venv/bin/lint-imports" --no-cache

set +e
# METAVOICE_TEST_HARD_EXIT: exit with pytest's status without interpreter finalisation
# (see tests/conftest.py).
METAVOICE_TEST_HARD_EXIT=1 QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" \
  "$venv/bin/python" -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "test: pytest collected no tests; a run that tests nothing is a failure." >&2
  exit 1
fi
exit "$rc"
