#!/usr/bin/env bash
# Block list benchmark: the cost of the check every request goes through before any other work.
# `secmon bench-blocklist` builds a table of ENTRIES blocks (half IPv4 addresses, a fifth IPv4
# networks /16-/30, a fifth IPv6 addresses, a tenth IPv6 networks /48-/64) and times, best of RUNS,
# a lookup of an already parsed address and the whole check of a request's address text (parse,
# lock, longest-prefix lookup, expiry), over probes half blocked, half not. Target: under 1 us.
# Prints one table. Options (environment): ENTRIES (default 10000), LOOKUPS (2000000), RUNS (5).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "building release..." >&2
swift build -c release --product secmon >/dev/null
bin=$(swift build -c release --show-bin-path)/secmon
"$bin" bench-blocklist --entries "${ENTRIES:-10000}" --lookups "${LOOKUPS:-2000000}" --runs "${RUNS:-5}"
