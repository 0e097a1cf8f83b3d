#!/usr/bin/env bash
# Headless Chromium for the browser tests (Debian's chromium package), CJK fonts for readable screenshots and
# poppler-utils (pdftotext) for reading the printed report back. Installs them when missing and we may
# (root, apt available); otherwise says so: the browser tests then fail with this same message.
set -uo pipefail
if { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; } && command -v pdftotext >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium and poppler-utils for the browser tests..." >&2
  (apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null) \
    || echo "could not install chromium and poppler-utils; the browser tests will fail" >&2
else
  echo "chromium or pdftotext is not installed; install Debian's chromium and poppler-utils for the browser tests" >&2
fi
exit 0
