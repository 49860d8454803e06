#!/usr/bin/env bash
# Set up stimsim on a fresh Debian/Ubuntu machine and either start the app or run the tests.
#
#   bash tools/setup.sh app     install, then open the desktop app
#   bash tools/setup.sh test    install (with test tools), build the firmware stub, run all checks
#
# System packages come from apt (with sudo when not root); Python packages go into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-}"
case "$what" in app|test) ;; *) echo "usage: bash tools/setup.sh app|test" >&2; exit 2 ;; esac

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Qt's runtime libraries (offscreen and on a desktop) and Python's venv.
QT_LIBS="libglib2.0-0 libgl1 libegl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libxkbcommon0"
DESKTOP_LIBS="libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0"
# The session report tests read the PDF back (pdftotext).
REPORT_TOOLS="poppler-utils"
# The firmware stub: host build, sanitizer build, fuzzing and the Cortex-M compile check.
FW_TOOLS="make gcc libc6-dev clang libclang-rt-dev gcc-arm-none-eabi libnewlib-arm-none-eabi"

need=""
pkgs="$QT_LIBS"
[ "$what" = app ] && pkgs="$pkgs $DESKTOP_LIBS"
[ "$what" = test ] && pkgs="$pkgs $FW_TOOLS $REPORT_TOOLS"
python3 -c 'import venv, ensurepip' 2>/dev/null || pkgs="$pkgs python3-venv"
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "$what" = app ]; then
  .venv/bin/python -m pip install --quiet .
  exec .venv/bin/stimsim
fi

.venv/bin/python -m pip install --quiet -e ".[test]"
make -C firmware_stub
.venv/bin/ruff check .
.venv/bin/mypy
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/python -m pytest -q
