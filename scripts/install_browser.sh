#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the browser tests (tests/test_ui.py).
# Playwright drives it through executable_path=/usr/bin/chromium; `playwright install`
# is never used (it downloads browsers, which an offline machine cannot do).
# Safe to run again: does nothing when /usr/bin/chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_browser.sh: need root (or sudo) to apt-get install chromium" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-noto-core
/usr/bin/chromium --version || true
