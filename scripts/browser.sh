#!/usr/bin/env bash
# Headless Chromium for the browser tests (Debian's chromium package) and CJK fonts for readable screenshots. Installs it when missing and we may
# (root, apt available); otherwise says so: the browser tests then fail with this same message.
set -uo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
    || echo "could not install chromium; the browser tests will fail" >&2
else
  echo "chromium is not installed; install Debian's 'chromium' package for the browser tests" >&2
fi
exit 0
