#!/usr/bin/env bash
# One command: install everything the tests need, lint, type-check, and run the whole
# suite on the embedded stores (SQLite + DuckDB) and, when DATABASE_URL names a
# PostgreSQL server, the app-database tests again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh

if [ ! -x /usr/bin/chromium ] || ! command -v pdftotext >/dev/null; then
  echo "test: installing Debian's chromium (browser tests) and poppler-utils (PDF checks)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium poppler-utils >/dev/null
fi

echo "== ruff" >&2
.venv/bin/ruff check src tests bench
echo "== mypy" >&2
.venv/bin/mypy
status=0
export HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-ci}  # property tests at full size (see tests/access)
echo "== pytest: SQLite + DuckDB" >&2
env -u DATABASE_URL .venv/bin/pytest "$@" || status=$?
if [ -n "${DATABASE_URL:-}" ]; then
  echo "== pytest: app database on PostgreSQL ($DATABASE_URL)" >&2
  UNIONHALL_TEST_PASS=postgres .venv/bin/pytest "$@" || status=$?
fi
exit $status
