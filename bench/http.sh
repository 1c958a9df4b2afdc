#!/usr/bin/env bash
# HTTP benchmark of `secmon serve` (release build) on loopback with wrk.
#
# Prints one table: requests/s and p50/p99 latency for
#   - the login page (anonymous GET /login), and the public health check,
#   - an authenticated GET /api/status (writes its activity line and its events row),
#   - a failed login POST (bcrypt, cost 12 as in production),
#   - GET /api/status again while a failed-login flood runs beside it (hashing must not starve it),
# then checks that the activity log holds exactly one well-formed line per answered request.
#
# Side by side with a peer (the original Flask app, say) in the same run:
#   PEER_URL=http://127.0.0.1:5000 PEER_STATUS_PATH=/api/status PEER_COOKIE='session=...' bench/http.sh
#
# Options (environment): DURATION (s, default 10), CONNECTIONS (default 64), THREADS (default 2),
# SECMON_LOG_FLUSH (written | synced | buffered), SECMON_LOG_CHAIN (on | off: the activity log's hash chain).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}

command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }

echo "building release..." >&2
swift build -c release --product secmon >/dev/null
bin="$(swift build -c release --show-bin-path)/secmon"

work=$(mktemp -d /tmp/secmon-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
admin_password="bench-initial-password"
new_password="bench-changed-password"
SECMON_ADMIN_PASSWORD=$admin_password "$bin" serve --port "$port" --data-dir "$work/data" --log-path "$work/logs/app.log" \
  >"$work/server.out" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

jar="$work/cookies"
csrf_from() { grep -o 'name="csrf_token" value="[^"]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }
token=$(curl -fs -c "$jar" -b "$jar" "$base/login" | csrf_from)
curl -fs -o /dev/null -c "$jar" -b "$jar" --data-urlencode "username=admin" --data-urlencode "password=$admin_password" \
  --data-urlencode "csrf_token=$token" "$base/login"
token=$(curl -fs -c "$jar" -b "$jar" "$base/account/password" | csrf_from)
curl -fs -o /dev/null -c "$jar" -b "$jar" --data-urlencode "current_password=$admin_password" \
  --data-urlencode "new_password=$new_password" --data-urlencode "confirm_password=$new_password" \
  --data-urlencode "csrf_token=$token" "$base/account/password"
session=$(awk '$6 == "secmon_session" { print $7 }' "$jar")
[ -n "$session" ] || { echo "could not log in; server output:" >&2; cat "$work/server.out" >&2; exit 1; }
status_code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: secmon_session=$session" "$base/api/status")
[ "$status_code" = 200 ] || { echo "GET /api/status answered $status_code" >&2; exit 1; }
login_csrf=$(curl -fs -c "$work/login-jar" "$base/login" | csrf_from)

# run NAME wrk-args... : runs wrk, stores "name|req/s|p50|p99|requests|statuses" in $work/rows
run() {
  local name=$1; shift
  local out
  out=$(wrk --latency -t"$threads" "$@")
  local rps p50 p99 reqs statuses
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
  reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
  statuses=$(echo "$out" | awk '/^STATUS/ { $1 = ""; sub(/^ /, ""); print }')
  echo "$name|$rps|$p50|$p99|$reqs|$statuses" >> "$work/rows"
}

lines_before=$(wc -l < "$work/logs/app.log")
sc="bench/status_count.lua"
run "GET /login (anonymous page)" -c"$connections" -d"${duration}s" -s "$sc" "$base/login"
run "GET /healthz (public JSON, logged)" -c"$connections" -d"${duration}s" -s "$sc" "$base/healthz"
run "GET /api/status (authenticated)" -c"$connections" -d"${duration}s" -s "$sc" -H "Cookie: secmon_session=$session" "$base/api/status"
LOGIN_CSRF=$login_csrf run "POST /login (failed, bcrypt 12)" -c"$connections" -d"${duration}s" -s bench/failed_login.lua "$base/login"
# Isolation: a failed-login flood (16 connections) beside authenticated status requests.
LOGIN_CSRF=$login_csrf wrk -t1 -c16 -d"$((duration + 2))s" -s bench/failed_login.lua "$base/login" > "$work/flood.out" &
flood=$!
sleep 1
run "GET /api/status during login flood" -c"$connections" -d"${duration}s" -s "$sc" -H "Cookie: secmon_session=$session" "$base/api/status"
wait "$flood"
flood_reqs=$(awk '/requests in/ { print $1 }' "$work/flood.out")
flood_status=$(awk '/^STATUS/ { $1 = ""; sub(/^ /, ""); print }' "$work/flood.out")
echo "  (flood beside it: $flood_reqs failed-login requests: $flood_status)" > "$work/notes"

if [ -n "${PEER_URL:-}" ]; then
  run "peer GET ${PEER_STATUS_PATH:-/api/status}" -c"$connections" -d"${duration}s" -s "$sc" \
    ${PEER_COOKIE:+-H "Cookie: $PEER_COOKIE"} "$PEER_URL${PEER_STATUS_PATH:-/api/status}"
fi

# Integrity: one whole line per answered SecMon request (wrk may leave a few in flight at the end).
sleep 1
kill -TERM "$server"; wait "$server" 2>/dev/null || true
lines_after=$(wc -l < "$work/logs/app.log")
answered=$(awk -F'|' '$1 !~ /^peer/ { n += $5 } END { print n }' "$work/rows")
answered=$((answered + flood_reqs))
bad=$(python3 -c '
import json, sys
bad = 0
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        json.loads(line)
    except Exception:
        bad += 1
print(bad)' "$work/logs/app.log")

printf '\nSecMon %s, wrk -t%s -c%s -d%ss on loopback, %s cores (load generator on the same cores)\n\n' \
  "$("$bin" --version)" "$threads" "$connections" "$duration" "$(nproc)"
printf '%-38s %12s %10s %10s  %s\n' "route" "requests/s" "p50" "p99" "answers"
printf '%-38s %12s %10s %10s  %s\n' "-----" "----------" "---" "---" "-------"
while IFS='|' read -r name rps p50 p99 reqs statuses; do
  printf '%-38s %12s %10s %10s  %s\n' "$name" "$rps" "$p50" "$p99" "$statuses"
done < "$work/rows"
cat "$work/notes"
printf '\nactivity log: %s new lines for %s answered requests (%s in flight at the end are logged too), %s malformed\n' \
  "$((lines_after - lines_before))" "$answered" "$((lines_after - lines_before - answered))" "$bad"
# The hash chain through the log, after the load (SECMON_LOG_CHAIN=off runs the server without it).
printf 'hash chain: %s\n' "$("$bin" verify-log --no-database "$work/logs/app.log" 2>&1 | head -n 3 | tr '\n' ' ')"
