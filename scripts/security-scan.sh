#!/usr/bin/env bash
# Security scan of a running SecMon on loopback: sqlmap (Debian's package) against the login form,
# the event search's and event API's filters, the incident list's and the audit page's filters, as an
# attacker without a session and as a logged-in administrator. Fails (exit 1) on any injection sqlmap reports.
#
#   scripts/security-scan.sh            # the fast profile (boolean, error and UNION techniques): CI runs it
#   FULL=1 scripts/security-scan.sh     # every technique (time-based blind included), higher level and risk
#
# Uses the debug build of `secmon` (building it when missing); all traffic goes to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v sqlmap >/dev/null 2>&1; then
  echo "security-scan.sh: installing sqlmap"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sqlmap >/dev/null
fi
[ -x .build/debug/secmon ] || swift build --product secmon >/dev/null
bin=.build/debug/secmon

work=$(mktemp -d /tmp/secmon-scan.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
SECMON_ADMIN_PASSWORD=scan-initial-password SECMON_BCRYPT_COST=4 "$bin" serve --port "$port" --data-dir "$work/data" \
  --log-path "$work/logs/app.log" --max-in-flight 64 >"$work/server.out" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 200); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$base/healthz" >/dev/null || { echo "security-scan.sh: the server did not start" >&2; cat "$work/server.out" >&2; exit 1; }

# An analyst session (the admin's password changed first, as SecMon requires).
jar="$work/cookies"
csrf_from() { grep -o 'name="csrf_token" value="[^"]*"' | head -n 1 | sed 's/.*value="//; s/"$//'; }
token=$(curl -fs -c "$jar" -b "$jar" "$base/login" | csrf_from)
curl -fs -o /dev/null -c "$jar" -b "$jar" --data-urlencode "username=admin" --data-urlencode "password=scan-initial-password" \
  --data-urlencode "csrf_token=$token" "$base/login"
token=$(curl -fs -c "$jar" -b "$jar" "$base/account/password" | csrf_from)
curl -fs -o /dev/null -c "$jar" -b "$jar" --data-urlencode "current_password=scan-initial-password" \
  --data-urlencode "new_password=scan-changed-password" --data-urlencode "confirm_password=scan-changed-password" \
  --data-urlencode "csrf_token=$token" "$base/account/password"
session=$(awk '$6 == "secmon_session" { print $7 }' "$jar")
[ -n "$session" ] || { echo "security-scan.sh: could not log in" >&2; exit 1; }

if [ "${FULL:-0}" = 1 ]; then
  profile=(--level 3 --risk 2 --technique BEUSTQ)
else
  profile=(--level 1 --risk 1 --technique BEU --time-sec 2)
fi
common=(--batch --disable-coloring --flush-session --output-dir "$work/sqlmap" --timeout 10 --retries 1 "${profile[@]}")

findings=0
scan() {
  local name=$1; shift
  local started=$SECONDS
  local log="$work/sqlmap-$name.log"
  sqlmap "${common[@]}" "$@" >"$log" 2>&1 || true
  if grep -Eqi "is vulnerable|parameter '.*' (is|appears to be) .*injectable|sqlmap identified the following injection" "$log"; then
    echo "FINDING  $name: sqlmap reports an injection"
    grep -Ei "injectable|vulnerable|Parameter:" "$log" | head -n 10 | sed 's/^/    /'
    findings=$((findings + 1))
  elif grep -Eq "all tested parameters do not appear to be injectable|all tested parameters appear to be not injectable" "$log"; then
    echo "ok       $name: no injection ($((SECONDS - started)) s)"
  else
    echo "ERROR    $name: sqlmap did not finish its tests; its last lines:"
    tail -n 8 "$log" | sed 's/^/    /'
    findings=$((findings + 1))
  fi
}

scan "login form (anonymous)" -u "$base/login" --data "username=alice&password=secret&csrf_token=x" \
  --csrf-token csrf_token --csrf-url "$base/login" -p "username,password" --ignore-code 401
scan "activity filters (analyst)" -u "$base/activity?ip=10.0.0.1&user=alice&action=PAGE_VISIT" \
  --cookie "secmon_session=$session" -p "ip,user,action" --threads 2
scan "event API filters (analyst)" -u "$base/api/events?ip=10.0.0.1&user=alice&action=PAGE_VISIT&limit=5" \
  --cookie "secmon_session=$session" -p "ip,user,action" --threads 2
scan "event search text and path (analyst)" -u "$base/activity?q=alice&path=/api/" \
  --cookie "secmon_session=$session" -p "q,path" --threads 2
scan "incident and alert filters (viewer)" -u "$base/incidents?rule=D-01&assignee=alice" \
  --cookie "secmon_session=$session" -p "rule,assignee" --threads 2
scan "audit filters (admin)" -u "$base/admin/audit?actor=admin&action=user.&target=user:alice" \
  --cookie "secmon_session=$session" -p "actor,action,target" --threads 2
scan "response action form (admin)" -u "$base/response/act" --data "kind=watch&target=192.0.2.1&minutes=10&rate=60&reason=scan&csrf_token=x" \
  --cookie "secmon_session=$session" --csrf-token csrf_token --csrf-url "$base/response" -p "target,reason" --ignore-code 400,409
scan "response actions filter (API, analyst)" -u "$base/api/v1/responses?kind=block&state=all" \
  --cookie "secmon_session=$session" -p "kind,state" --threads 2 --ignore-code 400

# A scan that sent almost nothing tested nothing: count what reached SecMon (its activity log).
requests=$(wc -l < "$work/logs/app.log")
echo "requests that reached SecMon during the scan: $requests"
if [ "$requests" -lt 150 ]; then
  echo "security-scan.sh: too few requests reached SecMon: sqlmap did not really test it"
  findings=$((findings + 1))
fi
if [ "$findings" -gt 0 ]; then
  echo "security-scan.sh: $findings finding(s)"
  exit 1
fi
echo "security-scan.sh: no findings"
