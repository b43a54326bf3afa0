#!/usr/bin/env bash
# Install everything the tests need (Debian packages when missing, Python extras) and run
# the whole suite: lint, types, tests. Usage: scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
# Browser tests drive Debian's Chromium (Playwright never downloads a browser here).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # shellcheck disable=SC1091
  source .venv/bin/activate
fi
python -m pip install -q --disable-pip-version-check -e ".[test]"

echo "== ruff";  ruff check src tests bench && ruff format --check src tests bench
echo "== mypy";  mypy
echo "== pytest"; python -m pytest "$@"
