#!/usr/bin/env bash
# A/B comparison of two `secmon` binaries on one input, for judging an optimisation on a noisy
# machine: runs them alternately (A B A B ...) on one core, the OS cache warm, and prints the best
# and median CPU seconds (user + system) of each and B's speed-up. Alerts must be identical: the
# script fails if the two binaries' alert lists differ.
#
#   bench/ab.sh BINARY_A BINARY_B [INPUT] [RULES]
#
# INPUT defaults to bench/out/seed-10000000.log (make it with bench/analyze.sh or
# ../shared/tools/gen_seed_log.py), RULES to D-01..D-04 (bench/out/rules-d01-d04, made by
# bench/analyze.sh). RUNS (default 5) sets the number of runs of each.
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2
input=${3:-bench/out/seed-10000000.log}
rules=${4:-bench/out/rules-d01-d04}
runs=${RUNS:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cpu="taskset -c 1"
command -v taskset >/dev/null 2>&1 || cpu=""
for i in $(seq "$runs"); do
  for side in a b; do
    bin=$a; [ "$side" = b ] && bin=$b
    /usr/bin/time -f "%U %S" -o "$out/time" $cpu "$bin" analyze --quiet --output json --rules "$rules" "$input" >"$out/$side.json" 2>/dev/null || true
    awk '{print $1 + $2}' "$out/time" >>"$out/$side.cpu"
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
def alerts(side):
    d = json.load(open(f"{out}/{side}.json"))
    return [(a["rule"]["label"], a["group"], a["first_time"], a["last_time"], a["event_count"], a["events"]) for a in d["alerts"]], d["summary"]["events"]
cpu = {s: [float(x) for x in open(f"{out}/{s}.cpu")] for s in "ab"}
(aa, ea), (ab, eb) = alerts("a"), alerts("b")
print(f"{'binary':8} {'best cpu s':>10} {'median':>8} {'events/s (best)':>16}")
for s, e in (("a", ea), ("b", eb)):
    print(f"{s.upper():8} {min(cpu[s]):10.2f} {statistics.median(cpu[s]):8.2f} {e / min(cpu[s]):16.0f}")
print(f"B/A speed-up (best): {min(cpu['a']) / min(cpu['b']):.3f}   alerts: {len(aa)} vs {len(ab)}, {'identical' if aa == ab else 'DIFFERENT'}")
sys.exit(0 if aa == ab else 1)
PY
