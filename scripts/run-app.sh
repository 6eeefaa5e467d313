#!/usr/bin/env bash
# Set up MetaVoice Studio (idempotent) and open it. Arguments go to `metavoice`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh" app
if [ "$(uname -s)" = Linux ] && [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}${QT_QPA_PLATFORM:-}" ] \
   && [ "$#" -eq 0 ]; then
  echo "run-app: no display found. Run this from a desktop session, or on a headless" >&2
  echo "machine under a virtual screen: xvfb-run -a bash scripts/run-app.sh" >&2
  exit 1
fi
exec "${VENV:-$root/.venv}/bin/metavoice" "$@"
