#!/usr/bin/env bash
# Block and rate-limit benchmark: the cost of the check every request goes through before any
# other work.
#
#   1. lookup: `secmon bench-blocklist` builds ENTRIES entries, four fifths blocks and one fifth
#      rate limits (half IPv4 addresses, a fifth IPv4 networks /16-/30, a fifth IPv6 addresses, a
#      tenth IPv6 networks /48-/64) and times, best of RUNS, a lookup of an already parsed address
#      and the whole check of a request's address text (parse, lock, longest-prefix lookups in both
#      tables, expiry, and the token bucket for a rate-limited source), over probes half listed,
#      half not. Target: under 1 microsecond.
#   2. http: one `secmon serve` (release, SQLite) under wrk on authenticated GET /api/status
#      (CONNECTIONS connections, DURATION s), alternately with none and with ENTRIES entries
#      written to its database (the server reads them within 5 s), ROUNDS times each, in one run.
#      Target: no change beyond the run-to-run spread.
#
# Prints one table. Options (environment): ENTRIES (10000), LOOKUPS (2000000), RUNS (5), ROUNDS (2),
# DURATION (10), CONNECTIONS (32), PARTS ("lookup http", the default, or either one).
set -euo pipefail
cd "$(dirname "$0")/.."
entries=${ENTRIES:-10000}
parts=${PARTS:-lookup http}
echo "building release..." >&2
swift build -c release --product secmon >/dev/null 2>&1
bin=$(swift build -c release --show-bin-path)/secmon

if [[ " $parts " == *" lookup "* ]]; then
  echo "lookup"
  "$bin" bench-blocklist --entries "$entries" --lookups "${LOOKUPS:-2000000}" --runs "${RUNS:-5}" | sed 's/^/  /'
fi

if [[ " $parts " == *" http "* ]]; then
  command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  work=$(mktemp -d /tmp/secmon-bench-blocks.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  SECMON_ADMIN_PASSWORD=bench-initial-password "$bin" serve --port "$port" --data-dir "$work/data" --log-path "$work/logs/app.log" \
    --log-flush buffered >"$work/server.out" 2>&1 &
  server=$!
  cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
  trap cleanup EXIT
  for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  jar="$work/cookies"
  csrf_from() { grep -o 'name="csrf_token" value="[^"]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }
  token=$(curl -fs -c "$jar" -b "$jar" "$base/login" | csrf_from)
  curl -fs -o /dev/null -c "$jar" -b "$jar" --data-urlencode "username=admin" --data-urlencode "password=bench-initial-password" \
    --data-urlencode "csrf_token=$token" "$base/login"
  token=$(curl -fs -c "$jar" -b "$jar" "$base/account/password" | csrf_from)
  curl -fs -o /dev/null -c "$jar" -b "$jar" --data-urlencode "current_password=bench-initial-password" \
    --data-urlencode "new_password=bench-changed-password" --data-urlencode "confirm_password=bench-changed-password" \
    --data-urlencode "csrf_token=$token" "$base/account/password"
  session=$(awk '$6 == "secmon_session" { print $7 }' "$jar")
  [ -n "$session" ] || { echo "could not log in" >&2; cat "$work/server.out" >&2; exit 1; }

  # blocks N: the table holds N blocks in force (the same mix as the lookup part, plus 127.0.0.77
  # to check they apply), or none.
  blocks() {
    python3 - "$work/data/secmon.sqlite" "$1" <<'PY'
import random, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30)
count = int(sys.argv[2])
db.execute("DELETE FROM response_actions")
rng = random.Random(42)
now = int(time.time() * 1_000_000)
rows = []
def v4(): return "%d.%d.%d.%d" % (rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
def v6(): return "2001:db8:%x::%x" % (rng.randint(0, 0xFFFF), rng.randint(1, 0xFFFF))
for i in range(count - 1 if count else 0):
    kind = i % 10
    target = v4() if kind < 5 else v4() + "/%d" % rng.randint(16, 30) if kind < 7 else v6() if kind < 9 else v6() + "/%d" % rng.randint(48, 64)
    if target.startswith("127."): target = "10.0.0.%d" % (i % 250)
    # Every fifth entry is a rate limit (600 a minute), the rest blocks.
    rows.append(("bench-%d" % i, "ratelimit" if i % 5 == 4 else "block", target))
if count: rows.append(("bench-loopback", "block", "127.0.0.77"))
db.executemany("INSERT INTO response_actions (id, kind, target, reason, actor, created_ts, expires_ts, rate) VALUES (?, ?, ?, 'bench', 'bench', ?, ?, 600)",
               [(i, k, t, now, now + 86_400_000_000) for i, k, t in rows])
db.commit()
PY
    sleep 6 # the server reads the block list every 5 s
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.77 "$base/healthz")
    if [ "$1" -gt 0 ] && [ "$code" != 403 ]; then echo "the blocks did not apply (got $code)" >&2; exit 1; fi
    if [ "$1" -eq 0 ] && [ "$code" != 200 ]; then echo "the blocks were not lifted (got $code)" >&2; exit 1; fi
  }

  echo "GET /api/status (authenticated, wrk, ${CONNECTIONS:-32} connections, ${DURATION:-10} s)"
  printf "  %-16s %12s %10s %10s\n" "blocks" "req/s" "p50" "p99"
  for round in $(seq 1 "${ROUNDS:-2}"); do
    for n in 0 "$entries"; do
      blocks "$n"
      out=$(wrk --latency -t2 -c"${CONNECTIONS:-32}" -d"${DURATION:-10}s" -H "Cookie: secmon_session=$session" "$base/api/status")
      printf "  %-16s %12s %10s %10s\n" "$n" "$(echo "$out" | awk '/Requests\/sec/ { print $2 }')" \
        "$(echo "$out" | awk '$1 == "50%" { print $2 }')" "$(echo "$out" | awk '$1 == "99%" { print $2 }')"
    done
  done
fi
