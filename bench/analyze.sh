#!/usr/bin/env bash
# Batch analysis benchmark: `secmon analyze` (release build, default rule pack) beside the floor for
# reading the file (`wc -l`) and the straightforward Python reference (../shared/tools/ref_analyze.py,
# D-01..D-03), all on the same files in one run, one core each (taskset), the OS cache warm.
#
# Prints one table: seconds, events/s, MB/s, peak RSS, CPU seconds and events per CPU second per tool
# and input (SecMon with only D-01..D-04, the issue's target configuration; with the whole bundled
# pack, whose baseline D-17 watches every API request; with the pack's baselines removed; and with a
# first_seen baseline added beside D-17); then SecMon's speed over the Python reference's in this same
# run, what the baselines cost, and checks that SecMon's D-01..D-03 alert counts equal the generator's
# ground truth.
#
# Inputs: seed-format logs of 1 and 10 million lines from ../shared/tools/gen_seed_log.py (kept under
# bench/out/, regenerated when missing), and a combined access log (bench/gen_access_log.py) for the
# web rules; and the same seed logs out of time order (shuffled in blocks of 5,000 lines, and line by
# line), which SecMon sorts (spilling to the temporary directory past 64 MiB) before analysing: their
# rows show the cost, the peak memory, and whether the alerts equal the ordered file's.
#
# The access log is analysed twice: with the bundled web rules and with SigmaHQ's `rules/web` (45
# community rules, many with long keyword lists), side by side. SigmaHQ's rules come from a
# snapshot of github.com/SigmaHQ/sigma: set SIGMA to a checkout (`git clone --depth 1
# https://github.com/SigmaHQ/sigma`), or on a SecMon development machine fetch github:SigmaHQ/sigma
# into /work/.mirror (the default); without one the row is skipped, saying so.
#
# Options (environment): SIZES (default "1000000 10000000"), ACCESS_LINES (default 2000000), RUNS
# (best of, default 3), SHARED (default ../shared), SIGMA (default /work/.mirror/SigmaHQ+sigma/repo).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-../shared}
sizes=${SIZES:-"1000000 10000000"}
access_lines=${ACCESS_LINES:-2000000}
runs=${RUNS:-3}
out=bench/out
mkdir -p "$out"

echo "building release..." >&2
swift build -c release --product secmon >/dev/null
bin="$(swift build -c release --show-bin-path)/secmon"
cpu="taskset -c 1"
command -v taskset >/dev/null 2>&1 || cpu=""

for n in $sizes; do
  [ -s "$out/seed-$n.log" ] || python3 "$shared/tools/gen_seed_log.py" --events "$n" --seed 42 \
      --out "$out/seed-$n.log" --truth "$out/seed-$n.truth.json" >&2
done
# The same lines out of time order: in shuffled blocks of 5,000, and fully shuffled (fixed seeds).
for n in $sizes; do
  for kind in blocks shuffled; do
    [ -s "$out/seed-$n.$kind.log" ] || python3 - "$out/seed-$n.log" "$out/seed-$n.$kind.log" "$kind" <<'PY'
import random, sys
source, target, kind = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(source, "rb").read().split(b"\n")
if lines and lines[-1] == b"": lines.pop()
rng = random.Random(7)
if kind == "blocks":
    blocks = [lines[i:i + 5000] for i in range(0, len(lines), 5000)]
    rng.shuffle(blocks)
    lines = [line for block in blocks for line in block]
else:
    rng.shuffle(lines)
with open(target, "wb") as out:
    out.write(b"\n".join(lines) + b"\n")
PY
  done
done
[ -s "$out/access-$access_lines.log" ] || python3 bench/gen_access_log.py --lines "$access_lines" --seed 42 --out "$out/access-$access_lines.log"

# The pack without its baseline rules (bl_*.yml), and the pack with a first_seen baseline added
# (a user logging in from an address not used in 7 days) beside D-17: what baselines cost.
nobl="$out/rules-no-baselines"
rm -rf "$nobl" && cp -r rules "$nobl" && find "$nobl" -name 'bl_*' -delete
withbl="$out/rules-with-baselines"
rm -rf "$withbl" && cp -r rules "$withbl"
cp bench/rules/bl_new_address.yml "$withbl/secmon/"

# The issue's target configuration: D-01..D-04 and the detection rules they build on, nothing else.
d14="$out/rules-d01-d04"
rm -rf "$d14" && mkdir -p "$d14"
cp rules/secmon/base_activity_events.yml rules/secmon/d01_brute_force.yml rules/secmon/d02_api_flood.yml \
   rules/secmon/d03_session_cycling.yml rules/secmon/d04_bot_repetition.yml "$d14/"

# best-of-$runs wall time, the peak RSS of that run, and the best CPU time (user + system) of the
# runs, which leaves out time spent waiting for a CPU: "seconds kilobytes cpu"
measure() {
  local best="" rss="" bestcpu=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M %U %S" -o "$out/time.txt" "$@" >"$out/stdout.txt" 2>"$out/stderr.txt" || true
    read -r s k u y <"$out/time.txt"
    c=$(awk "BEGIN{print $u + $y}")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; rss=$k; cp "$out/stdout.txt" "$out/best.txt"; fi
    if [ -z "$bestcpu" ] || awk "BEGIN{exit !($c < $bestcpu)}"; then bestcpu=$c; fi
  done
  echo "$best $rss $bestcpu"
}

row() { # tool input lines bytes seconds rss cpu
  awk -v t="$1" -v i="$2" -v n="$3" -v b="$4" -v s="$5" -v k="$6" -v c="$7" 'BEGIN{
    if (s <= 0) s = 0.001;
    if (c <= 0) c = 0.001;
    printf "%-30s %-22s %12.0f %9.2f %14.0f %9.1f %10.1f %9.2f %14.0f\n", t, i, n, s, n / s, b / 1e6 / s, k / 1024, c, n / c }'
}
# ratio NAME A_SECONDS B_SECONDS A_CPU B_CPU: how many times faster A is than B, by wall and CPU time
ratio() {
  awk -v t="$1" -v a="$2" -v b="$3" -v ac="$4" -v bc="$5" 'BEGIN{ printf "%s: %.1fx by wall time, %.1fx by CPU time\n", t, b / a, bc / ac }'
}

printf "%-30s %-22s %12s %9s %14s %9s %10s %9s %14s\n" "tool" "input" "lines" "seconds" "events/s" "MB/s" "peak MB" "cpu s" "events/cpu s"
check=""
ratios=""
for n in $sizes; do
  f="$out/seed-$n.log"; bytes=$(stat -c %s "$f")
  read -r s k c < <(measure $cpu wc -l "$f");                                   row "wc -l (floor)" "seed $n" "$n" "$bytes" "$s" "$k" "$c"
  read -r s k c < <(measure $cpu python3 "$shared/tools/ref_analyze.py" "$f");   row "ref_analyze.py (D-01..D-03)" "seed $n" "$n" "$bytes" "$s" "$k" "$c"
  ps=$s pc=$c
  read -r s k c < <(measure $cpu "$bin" analyze --quiet --output json --rules "$d14" "$f"); row "secmon analyze (D-01..D-04)" "seed $n" "$n" "$bytes" "$s" "$k" "$c"
  ratios="$ratios$(ratio "seed $n: secmon (D-01..D-04) over ref_analyze.py" "$s" "$ps" "$c" "$pc")\n"
  read -r s k c < <(measure $cpu "$bin" analyze --quiet --output json "$f");    row "secmon analyze (pack)" "seed $n" "$n" "$bytes" "$s" "$k" "$c"
  got=$(python3 -c 'import json,sys,collections; d=json.load(open(sys.argv[1])); c=collections.Counter(a["rule"]["label"] for a in d["alerts"]); print(" ".join("%s=%d" % (r, c[r]) for r in ("D-01","D-02","D-03","D-04")))' "$out/best.txt")
  want=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["expected_alert_totals"]; print(" ".join("%s=%d" % (r, t[r]) for r in ("D-01","D-02","D-03")))' "$out/seed-$n.truth.json")
  check="$check\nseed $n: secmon $got; truth $want"
  cp "$out/best.txt" "$out/ordered-$n.json"
  os=$s oc=$c
  read -r s k c < <(measure $cpu "$bin" analyze --quiet --output json --rules "$nobl" "$f"); row "secmon analyze (no baselines)" "seed $n" "$n" "$bytes" "$s" "$k" "$c"
  ns=$s nc=$c
  read -r s k c < <(measure $cpu "$bin" analyze --quiet --output json --rules "$withbl" "$f"); row "secmon analyze (+ first_seen)" "seed $n" "$n" "$bytes" "$s" "$k" "$c"
  ratios="$ratios$(awk -v t="seed $n" -v a="$ns" -v b="$os" -v c="$s" -v ac="$nc" -v bc="$oc" -v cc="$c" 'BEGIN{ printf "%s: with D-17 at %.2f of the speed without baselines, with D-17 and a first_seen rule at %.2f (by CPU time: %.2f, %.2f)", t, a / b, a / c, ac / bc, ac / cc }')\n"
  bl=$(python3 -c 'import json,sys,collections; d=json.load(open(sys.argv[1])); c=collections.Counter(a["rule"]["label"] for a in d["alerts"]); print("D-17=%d NEW-ADDRESS=%d" % (c["D-17"], c["NEW-ADDRESS"]))' "$out/best.txt")
  check="$check\nseed $n, baselines: $bl"
  cp "$out/ordered-$n.json" "$out/best.txt"
  for kind in blocks shuffled; do
    u="$out/seed-$n.$kind.log"
    read -r s k c < <(measure $cpu "$bin" analyze --quiet --output json "$u"); row "secmon analyze (pack), $kind" "seed $n" "$n" "$bytes" "$s" "$k" "$c"
    same=$(python3 - "$out/ordered-$n.json" "$out/best.txt" <<'PY'
import json, sys
def key(path):
    d = json.load(open(path))
    return sorted((a["rule"]["label"], json.dumps(a["group"], sort_keys=True), a["first_time"], a["last_time"], a["event_count"]) for a in d["alerts"])
a, b = key(sys.argv[1]), key(sys.argv[2])
print("identical alerts (%d)" % len(a) if a == b else "DIFFERENT alerts (%d ordered, %d %s)" % (len(a), len(b), sys.argv[2]))
PY
)
    ratios="$ratios$(awk -v t="seed $n, $kind" -v a="$os" -v b="$s" -v ac="$oc" -v bc="$c" -v m="$same" 'BEGIN{ printf "%s: %.2f of the ordered speed by wall time, %.2f by CPU time; %s\n", t, a / b, ac / bc, m }')\n"
  done
done
f="$out/access-$access_lines.log"; bytes=$(stat -c %s "$f")
read -r s k c < <(measure $cpu wc -l "$f");                                 row "wc -l (floor)" "access $access_lines" "$access_lines" "$bytes" "$s" "$k" "$c"
read -r s k c < <(measure $cpu "$bin" analyze --quiet --output json "$f");  row "secmon analyze (web rules)" "access $access_lines" "$access_lines" "$bytes" "$s" "$k" "$c"
web=$(python3 -c 'import json,sys,collections; d=json.load(open(sys.argv[1])); c=collections.Counter(a["rule"]["label"] for a in d["alerts"]); print(" ".join("%s=%d" % kv for kv in sorted(c.items())), "rejected=%d" % d["summary"]["rejected"])' "$out/best.txt")
ws=$s wc=$c
# SigmaHQ rules/web on the same file: a checkout (SIGMA) or a bare mirror (git archive).
sigma=${SIGMA:-/work/.mirror/SigmaHQ+sigma/repo}
sigmaweb="$out/sigma-web"
sigmanote=""
rm -rf "$sigmaweb"
if [ -d "$sigma/rules/web" ]; then
  mkdir -p "$sigmaweb" && cp -r "$sigma/rules/web/." "$sigmaweb/"
elif git -C "$sigma" rev-parse --git-dir >/dev/null 2>&1; then
  mkdir -p "$sigmaweb" && git -C "$sigma" archive HEAD rules/web | tar -x -C "$sigmaweb" --strip-components=2
fi
if [ -d "$sigmaweb" ]; then
  count=$(find "$sigmaweb" -name '*.yml' | wc -l)
  read -r s k c < <(measure $cpu "$bin" analyze --quiet --output json --rules "$sigmaweb" "$f"); row "secmon analyze (SigmaHQ web)" "access $access_lines" "$access_lines" "$bytes" "$s" "$k" "$c"
  sweb=$(python3 -c 'import json,sys,collections; d=json.load(open(sys.argv[1])); c=collections.Counter(a["rule"]["title"] for a in d["alerts"]); print("; ".join("%s=%d" % kv for kv in sorted(c.items())), "| rules=%d unscreened=%d" % (d["summary"]["rules"], d["summary"].get("unscreened_rules", 0)))' "$out/best.txt")
  ratios="$ratios$(awk -v a="$ws" -v b="$s" -v ac="$wc" -v bc="$c" -v n="$count" 'BEGIN{ printf "access: SigmaHQ rules/web (%d files) at %.2f of the bundled web rules speed by wall time, %.2f by CPU time", n, a / b, ac / bc }')\n"
  sigmanote="access, SigmaHQ rules/web: $sweb"
else
  sigmanote="access, SigmaHQ rules/web: skipped (no snapshot at $sigma; set SIGMA to a checkout of github.com/SigmaHQ/sigma)"
fi
printf "%b" "\n$ratios"
printf "%b\n" "$check\naccess: secmon $web" "$sigmanote"
