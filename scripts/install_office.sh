#!/usr/bin/env bash
# Install Debian's headless LibreOffice Writer and an Arabic-capable font for the extraction round-trip
# tests (tests/test_extraction_roundtrip.py, `python -m rag.bench.extraction`): they turn the seed
# articles into real .docx and .pdf files with `soffice --headless --convert-to` and check that
# Sanad reads the text back. Called by `make test` (target `office`), so CI's clean clone gets it.
#
# Debian packages (checked with `apt-cache search libreoffice`): libreoffice-writer-nogui (Writer
# without the GUI toolkits), fonts-dejavu-core (DejaVu Sans: Arabic letters and curly quotes in one
# font, what the round-trip documents are set in) and fonts-noto-core (Noto Naskh Arabic: the
# second set of documents, whose quotes come from a fallback font).
# Safe to run again: does nothing when soffice and the font are already there.
set -euo pipefail

have_font() {  # (fc-list into a variable: with pipefail, grep -q closing the pipe early would fail it)
    local fonts
    fonts=$(fc-list 2>/dev/null || true)
    grep -qi "Noto Naskh Arabic" <<<"$fonts" && grep -qi "DejaVu Sans" <<<"$fonts"
}

if command -v soffice >/dev/null 2>&1 && have_font; then
    echo "office already installed: $(soffice --version 2>/dev/null | head -1)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_office.sh: need root (or sudo) to apt-get install libreoffice-writer-nogui" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
# Another apt run (e.g. install_browser.sh) may hold the lock: wait for it rather than fail.
APT=(-o DPkg::Lock::Timeout=600)
$SUDO apt-get "${APT[@]}" update
$SUDO apt-get "${APT[@]}" install -y --no-install-recommends libreoffice-writer-nogui fonts-dejavu-core fonts-noto-core \
    fontconfig
fc-cache -f >/dev/null 2>&1 || true
soffice --version || true
