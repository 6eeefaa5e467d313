#!/usr/bin/env bash
# Install an unpacked MetaVoice Studio tarball for the current user (no root needed):
# the app folder under ~/.local/lib, a command in ~/.local/bin, the menu entry, icon and
# AppStream metadata under ~/.local/share. Run it from the unpacked folder.
#   ./install.sh             install or update
#   ./install.sh --uninstall remove it again (voices and recordings are kept)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${PREFIX:-$HOME/.local}"
app="$prefix/lib/metavoice-studio"
share="$prefix/share"
if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$app" "$prefix/bin/metavoice-studio" \
    "$share/applications/io.metavoice.Studio.desktop" \
    "$share/icons/hicolor/scalable/apps/io.metavoice.Studio.svg" \
    "$share/metainfo/io.metavoice.Studio.metainfo.xml"
  echo "MetaVoice Studio removed (your voices and recordings are still in your data folder)."
  exit 0
fi
mkdir -p "$prefix/lib" "$prefix/bin" "$share/applications" \
  "$share/icons/hicolor/scalable/apps" "$share/metainfo"
rm -rf "$app.new"
cp -a "$here/metavoice-studio" "$app.new"
rm -rf "$app"
mv "$app.new" "$app"
ln -sf "$app/metavoice-studio" "$prefix/bin/metavoice-studio"
cp "$here/share/applications/io.metavoice.Studio.desktop" "$share/applications/"
cp "$here/share/icons/hicolor/scalable/apps/io.metavoice.Studio.svg" \
  "$share/icons/hicolor/scalable/apps/"
cp "$here/share/metainfo/io.metavoice.Studio.metainfo.xml" "$share/metainfo/"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$share/applications" || true
echo "MetaVoice Studio installed: run metavoice-studio, or find it in the applications menu."
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "note: $prefix/bin is not on your PATH." ;; esac
