#!/usr/bin/env bash
# One command: install everything the tests need, lint, type-check, and run the whole
# suite on the embedded stores (SQLite + DuckDB) and, when DATABASE_URL names a
# PostgreSQL server, the app-database tests and the warehouse suite again on PostgreSQL.
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
# What runs again with the warehouse on PostgreSQL (tests/backends.py; the identity
# engine tests are PostgreSQL's and Spark's already, in the first pass).
WAREHOUSE_SUITE="tests/warehouse tests/access/test_scope_expression.py tests/jobs tests/elections tests/ingest
  tests/identity tests/field tests/exports tests/reports tests/analytics/test_sql_postgres.py"
postgres_passes() {
  # The warehouse suite with both stores on PostgreSQL (every test warehouse a fresh
  # schema), then the other app-database tests with the warehouse on DuckDB. The browser
  # tests run in the first pass: what they add is the browser, not the database; property
  # tests run at their dev size, having run at full size there.
  local rc=0 ignore=() p
  export HYPOTHESIS_PROFILE=dev
  echo "== pytest: app database and warehouse on PostgreSQL ($DATABASE_URL)"
  UNIONHALL_TEST_PASS=postgres UNIONHALL_TEST_WAREHOUSE=postgres UNIONHALL_TEST_WAREHOUSE_URL="$DATABASE_URL" \
    .venv/bin/pytest -m "not browser" --basetemp="$pgtmp/a" $WAREHOUSE_SUITE \
    --ignore=tests/identity/test_engines.py "$@" || rc=1
  echo "== pytest: app database on PostgreSQL, the other tests"
  for p in $WAREHOUSE_SUITE; do ignore+=("--ignore=$p"); done
  UNIONHALL_TEST_PASS=postgres .venv/bin/pytest -m "not browser" --basetemp="$pgtmp/b" "${ignore[@]}" "$@" || rc=1
  return $rc
}

# The PostgreSQL passes share nothing with the embedded one (another app database, their
# own warehouse schemas and temp directories), so they run beside it: two CPUs, one wait.
pg_pid=""
if [ -n "${DATABASE_URL:-}" ]; then
  pgtmp=$(mktemp -d); pglog="$pgtmp/pytest.log"
  postgres_passes "$@" >"$pglog" 2>&1 &
  pg_pid=$!
  echo "== pytest: PostgreSQL passes started beside the first (output after it)" >&2
fi
echo "== pytest: SQLite + DuckDB" >&2
HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-ci} env -u DATABASE_URL .venv/bin/pytest "$@" || status=$?
if [ -n "$pg_pid" ]; then
  wait "$pg_pid" || status=1
  cat "$pglog"
  rm -rf "$pgtmp"
fi
exit $status
