#!/usr/bin/env bash
# Set up MetaVoice Studio on Debian/Ubuntu: system libraries plus a virtual
# environment in .venv with the app installed in editable mode.
#
#   scripts/setup.sh          what the app needs to run
#   scripts/setup.sh test     that, plus what the test suite needs
#   scripts/setup.sh bench    that, plus the benchmark judges (Whisper, Resemblyzer, NISQA-TTS)
#
# Idempotent: packages already present are not reinstalled, and the pip step
# is skipped while pyproject.toml is unchanged since the last successful run.
# Environment knobs:
#   PYTHON            interpreter to build the venv from (default: python3, 3.11+)
#   VENV              venv location (default: .venv in the repository)
#   TORCH_INDEX_URL   pip index to take torch from (e.g. PyTorch's CPU or CUDA wheel index)
set -euo pipefail

profile="${1:-app}"
case "$profile" in
  app|test|bench) ;;
  *) echo "usage: $0 [app|test|bench]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${VENV:-$root/.venv}"
python="${PYTHON:-python3}"

# Shared libraries behind PortAudio (sounddevice), libsndfile (soundfile) and
# Qt's xcb platform plugin (PySide6 on X11).
app_pkgs=(
  libportaudio2 libsndfile1
  libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  fonts-dejavu-core
)
# A virtual X screen for window tests, and speech synthesisers that tests use
# to make real speech at run time.
test_pkgs=(xvfb xauth espeak-ng flite)

pkgs=("${app_pkgs[@]}")
if [ "$profile" != app ]; then pkgs+=("${test_pkgs[@]}"); fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
else
  echo "setup: not a Debian/Ubuntu system; install PortAudio, libsndfile and Qt's xcb libraries yourself (see README)." >&2
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "setup: need root to run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: Python 3.11 or newer is required (PYTHON=$python)." >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating virtual environment in $venv"
  "$python" -m venv "$venv"
fi

stamp="$venv/.metavoice-$profile.stamp"
want="$(cat pyproject.toml scripts/constraints.txt | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: $venv is up to date ($profile)"
  exit 0
fi

# The constraints reach pip's isolated build environments too (pyworld builds from source).
export PIP_CONSTRAINT="$root/scripts/constraints.txt"
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -q)
# torch first and pinned, so nothing later can pull a newer (CUDA) build.
if [ -n "${TORCH_INDEX_URL:-}" ]; then
  "${pip[@]}" --index-url "$TORCH_INDEX_URL" "torch==2.13.0"
else
  "${pip[@]}" "torch==2.13.0"
fi
if [ "$profile" = test ]; then
  "${pip[@]}" -e ".[test]"
elif [ "$profile" = bench ]; then
  "${pip[@]}" -e ".[test,bench]"
  # The naturalness judge's code (its weights stay in the shared folder). Its declared
  # pins would replace torch and numpy, so it goes in without them; the bench extra
  # carries what it imports.
  "${pip[@]}" --no-deps "nisqa==2.0.post2"
else
  "${pip[@]}" -e .
fi
echo "$want" > "$stamp"
echo "setup: done ($profile) - torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)')"
