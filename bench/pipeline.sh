#!/usr/bin/env bash
# Pipeline benchmark: what the live detection pipeline sustains, and how fast an alert is stored.
#
#   1. Throughput: `secmon bench-pipeline` replays a generated seed-format log (GEN_EVENTS lines,
#      ../shared/tools/gen_seed_log.py) through the live pipeline in-process (intake -> detection
#      stage with the whole bundled pack -> alert bus -> alert store on SQLite), best of RUNS: once as
#      fast as the pipeline takes events (capacity), once offered at RATE events/s for the whole log
#      (must drop nothing). HTTP cannot feed it that fast on this machine, hence the in-process source.
#   2. Latency: `secmon serve` under wrk load (GET /login, CONNECTIONS connections, DURATION s) while a
#      probe runs brute-force episodes (4 failed logins from a fresh address each, through
#      X-Forwarded-For from the trusted loopback proxy); the server measures, for every alert it
#      stores, the time from the event that opened or extended it (stamped before its request was
#      answered) to the row being written, and /healthz reports p50 and p99.
#   3. Live feed: `secmon serve` with LIVE_CLIENTS WebSocket clients on /live (bench/live_probe.py,
#      Python's websockets, installed with pip when missing) while LIVE_EPISODES brute-force episodes
#      run one after another: the time from the answer to the login that completes D-01's condition
#      to each client receiving the alert, p50 and p99.
#
# Prints one table. Options (environment): GEN_EVENTS (default 200000), RATE (default 20000), RUNS
# (default 3), DURATION (default 20), CONNECTIONS (default 32), PROBES (default 4), SHARED (../shared),
# LIVE_CLIENTS (default 50), LIVE_EPISODES (default 40), PARTS ("throughput latency live", the default,
# or any of them).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-../shared}
gen_events=${GEN_EVENTS:-200000}
rate=${RATE:-20000}
runs=${RUNS:-3}
duration=${DURATION:-20}
connections=${CONNECTIONS:-32}
probes=${PROBES:-4}
parts=${PARTS:-"throughput latency live"}
out=bench/out
mkdir -p "$out"

command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }

echo "building release..." >&2
swift build -c release --product secmon >/dev/null
bin="$(swift build -c release --show-bin-path)/secmon"
log="$out/seed-$gen_events.log"
[ -s "$log" ] || python3 "$shared/tools/gen_seed_log.py" --events "$gen_events" --seed 42 --out "$log" --truth "$out/seed-$gen_events.truth.json" >&2

work=$(mktemp -d /tmp/secmon-pipeline.XXXXXX)
server=""
cleanup() { [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; rm -rf "$work"; }
trap cleanup EXIT

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p"; }
rows=()

# 1. Throughput.
if [[ " $parts " == *" throughput "* ]]; then
best=""
for i in $(seq 1 "$runs"); do
  rm -f "$work"/replay.sqlite*
  line=$("$bin" bench-pipeline "$log" --database-url "sqlite:$work/replay.sqlite")
  eps=$(echo "$line" | field events_per_s)
  if [ -z "$best" ] || [ "$eps" -gt "$(echo "$best" | field events_per_s)" ]; then best=$line; fi
done
rows+=("replay, as fast as taken (best of $runs)|$(echo "$best" | field events)|$(echo "$best" | field seconds)|$(echo "$best" | field events_per_s)|$(echo "$best" | field dropped)|$(echo "$best" | field alerts)|$(echo "$best" | field stored)")
rm -f "$work"/replay.sqlite*
paced=$("$bin" bench-pipeline "$log" --database-url "sqlite:$work/replay.sqlite" --rate "$rate")
rows+=("replay, offered at $rate/s|$(echo "$paced" | field events)|$(echo "$paced" | field seconds)|$(echo "$paced" | field events_per_s)|$(echo "$paced" | field dropped)|$(echo "$paced" | field alerts)|$(echo "$paced" | field stored)")
fi

# 2. Latency under load.
if [[ " $parts " == *" latency "* ]]; then
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
SECMON_ADMIN_PASSWORD=bench-initial-password SECMON_BCRYPT_COST=4 "$bin" serve --port "$port" --data-dir "$work/data" \
  --log-path "$work/logs/app.log" --trusted-proxy 127.0.0.1 >"$work/server.out" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$base/healthz" >/dev/null || { echo "server did not start:" >&2; cat "$work/server.out" >&2; exit 1; }

wrk -t2 -c"$connections" -d"${duration}s" --latency "$base/login" >"$work/wrk.out" &
wrk_pid=$!
python3 - "$base" "$probes" "$duration" >"$work/probe.out" <<'PY'
import http.cookiejar, re, sys, threading, time, urllib.parse, urllib.request
base, probes, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.time() + duration - 1
episodes = [0] * probes

def probe(index):
    n = 0
    while time.time() < deadline:
        n += 1
        address = f"203.0.{113 if index % 2 else 112}.{(index * 61 + n) % 250 + 1}" if n < 250 else f"198.51.100.{(index * 17 + n) % 250 + 1}"
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        headers = {"X-Forwarded-For": f"{address}"}
        for attempt in range(4):
            page = opener.open(urllib.request.Request(base + "/login", headers=headers), timeout=10).read().decode()
            token = re.search(r'name="csrf_token" value="([^"]*)"', page).group(1)
            body = urllib.parse.urlencode({"username": f"nobody{index}x{n}x{attempt}", "password": "wrong", "csrf_token": token}).encode()
            try:
                opener.open(urllib.request.Request(base + "/login", data=body, headers=headers), timeout=10)
            except urllib.error.HTTPError:
                pass
        episodes[index] += 1

threads = [threading.Thread(target=probe, args=(i,)) for i in range(probes)]
for t in threads: t.start()
for t in threads: t.join()
print(sum(episodes))
PY
wait "$wrk_pid"
sleep 1.5
health=$(curl -fs "$base/healthz")
episodes=$(cat "$work/probe.out")
read -r wrk_rps wrk_p99 < <(awk '/Requests\/sec/ {r=$2} /^ *99%/ {p=$2} END {print r, p}' "$work/wrk.out")
latency=$(echo "$health" | python3 -c 'import json,sys; d=json.load(sys.stdin); l=d.get("alert_latency_ms") or {}; i=d.get("intake") or {}; print(l.get("count"), l.get("p50"), l.get("p99"), l.get("max"), i.get("accepted"), i.get("dropped"), d.get("status"))')
read -r count p50 p99 max accepted dropped status <<<"$latency"
fi

# 3. Live feed latency.
if [[ " $parts " == *" live "* ]]; then
python3 -c 'import websockets' 2>/dev/null || pip install -q websockets >&2
live_clients=${LIVE_CLIENTS:-50}
live_episodes=${LIVE_EPISODES:-40}
live_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
live_base="http://127.0.0.1:$live_port"
accounts=()
users=$(( (live_clients + 3) / 4 ))
for i in $(seq 1 "$users"); do
  SECMON_BCRYPT_COST=4 "$bin" user add "watcher$i" --role viewer --password-stdin --data-dir "$work/live" <<<"watcher-password-$i" >/dev/null
  accounts+=("watcher$i:watcher-password-$i")
done
SECMON_ADMIN_PASSWORD=bench-initial-password SECMON_BCRYPT_COST=4 "$bin" serve --port "$live_port" --data-dir "$work/live" \
  --log-path "$work/live-logs/app.log" --trusted-proxy 127.0.0.1 >"$work/live-server.out" 2>&1 &
live_server=$!
for _ in $(seq 1 100); do curl -fs "$live_base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
read -r live_count live_p50 live_p99 live_max < <(python3 bench/live_probe.py "$live_base" "$live_clients" "$live_episodes" "${accounts[@]}")
kill "$live_server" 2>/dev/null || true; wait "$live_server" 2>/dev/null || true
fi

if [ ${#rows[@]} -gt 0 ]; then
printf '%-42s %10s %9s %10s %8s %8s %8s\n' "throughput" "events" "seconds" "events/s" "dropped" "alerts" "stored"
for row in "${rows[@]}"; do
  IFS='|' read -r name events seconds eps dropped_ alerts stored <<<"$row"
  printf '%-42s %10s %9s %10s %8s %8s %8s\n' "$name" "$events" "$seconds" "$eps" "$dropped_" "$alerts" "$stored"
done
echo
fi
if [[ " $parts " == *" live "* ]]; then
printf '%-42s %s\n' "live feed" ""
printf '  %-40s %s deliveries (%s clients, %s episodes): p50 %s ms, p99 %s ms, max %s ms\n' "answer to alert on a WebSocket" "$live_count" "$live_clients" "$live_episodes" "$live_p50" "$live_p99" "$live_max"
echo
fi
[[ " $parts " == *" latency "* ]] || exit 0
printf '%-42s %s\n' "latency under load" ""
printf '  %-40s %s req/s, p99 %s (wrk, %s connections, %ss)\n' "GET /login" "$wrk_rps" "$wrk_p99" "$connections" "$duration"
printf '  %-40s %s episodes, %s events accepted by detection, %s dropped, health %s\n' "brute-force probe ($probes threads)" "$episodes" "$accepted" "$dropped" "$status"
printf '  %-40s %s stored updates: p50 %s ms, p99 %s ms, max %s ms\n' "event to stored alert" "$count" "$p50" "$p99" "$max"
