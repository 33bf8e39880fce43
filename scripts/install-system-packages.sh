#!/usr/bin/env bash
# Install the Debian packages the tests need: every name listed in scripts/packages.d/*.txt
# (one a line, `#` comments). Installs only what is missing, with `apt-get update` first;
# does nothing when all are present. `--bench` installs scripts/packages.d/bench/*.txt
# instead: what `make bench` needs and nothing more (Postfix's smtp-sink, the PostgreSQL
# server, the brochure's fonts; not the tests' browsers, IMAP server or Node), so a first
# `make bench` on a new machine downloads a few tens of MB, not the hundreds the tests need.
# Needs root and apt-get; otherwise it says what is missing and exits 0 (the tests that need
# a package then skip, or fail in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
lists=(scripts/packages.d/*.txt)
[[ "${1:-}" == "--bench" ]] && lists=(scripts/packages.d/bench/*.txt)
mapfile -t wanted < <(cat "${lists[@]}" 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' \
    | grep -v '^$' | sort -u)
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "install-system-packages: missing (install them as root): ${missing[*]}" >&2
    exit 0
fi
echo "install-system-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
