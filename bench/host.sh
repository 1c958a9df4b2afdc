#!/usr/bin/env bash
# Host sensors benchmark: one full process-and-socket snapshot (`secmon host snapshot`, release
# build) beside `ps aux` and `ss -tanp` on the same machine, in one run, one core each (taskset);
# then the CPU share of the background sampler (`secmon host watch`) at the default interval.
#
# Prints one table: median and best wall time, and median CPU time (user + system, of the command
# and its children), over RUNS runs of each command, and the rows and bytes it printed; then the
# snapshot's time over `ps aux` plus `ss -tanp` (target: at most 1), and the sampler's share of one
# core over WATCH seconds (target: under 1 %), with its readings and events.
#
# Then the same table on a busy host: BUSY pairs of loopback TCP connections held open by a Python
# helper (default 4000 pairs: 8,000 sockets; BUSY=0 skips it).
#
# Then bench/files.sh: file integrity baseline throughput on 100,000 generated files and the
# scanner's MB/s on a 1 GiB file, each beside sha256sum and openssl dgst -sha256 (FILES=0 skips it).
#
# Options (environment): RUNS (default 30), WATCH (seconds, default 60), INTERVAL (default 5), BUSY.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-30}
watch=${WATCH:-60}
interval=${INTERVAL:-5}
busy=${BUSY:-4000}

swift build -c release --product secmon >/dev/null
bin=$(swift build -c release --show-bin-path)/secmon

table() {
python3 - "$bin" "$runs" "$1" <<'PY'
import os, resource, statistics, subprocess, sys, time
binary, runs, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
commands = [
    ("secmon host snapshot", [binary, "host", "snapshot"]),
    ("ps aux", ["ps", "aux"]),
    ("ss -tanp", ["ss", "-tanp"]),
]
def measure(argv):
    walls, cpus, size = [], [], 0
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run(["taskset", "-c", "1"] + argv, stdout=subprocess.PIPE, check=True).stdout
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        size = len(out)
    return walls, cpus, size
results = {}
# Interleaved warm-up, so that no command profits from a cache the others did not have.
for _, argv in commands: subprocess.run(argv, stdout=subprocess.DEVNULL)
for name, argv in commands: results[name] = measure(argv)
processes = len([p for p in os.listdir("/proc") if p.isdigit()])
sockets = sum(max(0, len(open(f"/proc/net/{t}").readlines()) - 1) for t in ("tcp", "tcp6"))
print(f"host ({label}): {processes} processes, {sockets} TCP sockets; {runs} runs each, on core 1")
print(f"{'command':<24}{'median ms':>11}{'best ms':>10}{'CPU ms':>9}{'bytes':>10}")
for name, _ in commands:
    walls, cpus, size = results[name]
    print(f"{name:<24}{statistics.median(walls)*1000:>11.1f}{min(walls)*1000:>10.1f}{statistics.median(cpus)*1000:>9.1f}{size:>10}")
ps, ss, snap = (statistics.median(results[n][0]) for n in ("ps aux", "ss -tanp", "secmon host snapshot"))
print(f"{'ps aux + ss -tanp':<24}{(ps + ss)*1000:>11.1f}")
print(f"snapshot / (ps aux + ss -tanp): {snap / (ps + ss):.2f} (target: at most 1)")
PY
}
table idle

if [ "$busy" -gt 0 ]; then
  # Loopback only, bounded: BUSY client connections and their accepted ends, held until stdin closes.
  fifo=$(mktemp -u); mkfifo "$fifo"
  cat >"$fifo.py" <<'PY'
import socket, sys
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(4096)
held = []
for _ in range(int(sys.argv[1])):
    held.append(socket.create_connection(("127.0.0.1", server.getsockname()[1]))); held.append(server.accept()[0])
print("ready", flush=True)
sys.stdin.read()
PY
  python3 "$fifo.py" "$busy" <"$fifo" >"$fifo.out" &
  exec 3>"$fifo"
  until grep -q ready "$fifo.out" 2>/dev/null; do sleep 0.2; done
  table "busy: $busy loopback connections"
  exec 3>&-
  wait
  rm -f "$fifo" "$fifo.out" "$fifo.py"
fi

echo "sampler: secmon host watch --quiet --interval $interval for $watch s (process connector when root)"
taskset -c 1 "$bin" host watch --quiet --interval "$interval" --seconds "$watch" 2>&1 | tail -n 1

# File integrity and the file scanner (FILES=0 skips them).
if [ "${FILES:-100000}" != 0 ]; then
  echo
  RUNS=${FILE_RUNS:-3} bench/files.sh
fi
