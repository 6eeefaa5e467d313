#!/usr/bin/env bash
# Build the MetaVoice Studio desktop bundle with PyInstaller, pack the Linux release
# tarball, and smoke-test the result.
#
#   bash packaging/build.sh                 build, pack, smoke-test
#   bash packaging/build.sh --report FILE   ... and write size and start-up time to FILE
#
# The build uses its own virtual environment (build/package-venv) holding only what the
# app needs, so benchmark and test tools never end up in the bundle. On Windows and
# macOS run the same steps by hand (see README.md, "Desktop bundle").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
report=()
if [ "${1:-}" = "--report" ]; then report=(--report "$2"); fi

bash scripts/setup.sh app >/dev/null  # the system libraries Qt and PortAudio need
venv="${PACKAGE_VENV:-$root/build/package-venv}"
python="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
export PIP_CONSTRAINT="$root/scripts/constraints.txt"
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -q)
"${pip[@]}" "torch==2.13.0"
"${pip[@]}" . "pyinstaller>=6.10"

version="$("$venv/bin/python" -c 'import metavoice_app; print(metavoice_app.__version__)')"
"$venv/bin/pyinstaller" --noconfirm --log-level WARN \
  --distpath build/dist --workpath build/pyinstaller packaging/metavoice.spec
bundle="build/dist/metavoice-studio"

case "$(uname -s)" in
  Linux)
    name="MetaVoiceStudio-$version-linux-$(uname -m)"
    stage="build/release/$name"
    rm -rf "$stage" && mkdir -p "$stage"
    cp -a "$bundle" "$stage/metavoice-studio"
    install -D -m 644 packaging/linux/io.metavoice.Studio.desktop \
      "$stage/share/applications/io.metavoice.Studio.desktop"
    install -D -m 644 resources/icons/metavoice.svg \
      "$stage/share/icons/hicolor/scalable/apps/io.metavoice.Studio.svg"
    install -D -m 644 packaging/linux/io.metavoice.Studio.metainfo.xml \
      "$stage/share/metainfo/io.metavoice.Studio.metainfo.xml"
    install -m 755 packaging/linux/install.sh "$stage/install.sh"
    cp LICENSE "$stage/"
    tarball="build/release/$name.tar.gz"
    tar -C build/release -czf "$tarball" "$name"
    echo "release tarball: $tarball"
    "$venv/bin/python" packaging/smoke.py "$stage/metavoice-studio" --tarball "$tarball" "${report[@]}"
    ;;
  *)
    "$venv/bin/python" packaging/smoke.py "$bundle" "${report[@]}"
    ;;
esac
