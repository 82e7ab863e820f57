#!/usr/bin/env bash
# One command: install, build the demo state, and serve it on http://127.0.0.1:8000/.
# Extra arguments go to `unionhall demo` (e.g. --port 8080, --no-serve).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/unionhall demo "$@"
