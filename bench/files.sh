#!/usr/bin/env bash
# File integrity and file scanner benchmark (run by bench/host.sh, or alone), release build,
# every command beside the peers over the same data, in one run:
#
# 1. FIM baseline throughput on a generated tree of FILES files (default 100,000; sizes 0 to
#    16 KiB, deterministic): `secmon fim baseline` (walk, hash on every core, and store every
#    state in SQLite) and `secmon fim check` (walk, hash, compare; read-only), beside
#    `sha256sum` and `openssl dgst -sha256` over the same files (`find | xargs`, one process
#    at a time as a user would run them). Target: within 1.5 times openssl.
# 2. Scanner MB/s on a file of SIZE_MB (default 1024) MiB of random bytes: `secmon scan`
#    (MD5, SHA-1 and SHA-256, entropy, strings, type, verdict) beside `sha256sum`,
#    `openssl dgst -sha256`, and openssl's three digests (MD5, SHA-1, SHA-256: the same work)
#    on the same file. Target: within 1.5 times openssl.
# 3. The scanner's peak memory (max RSS) as the file grows: 16 MiB, 256 MiB, SIZE_MB, with YARA
#    (libyara maps files up to 64 MiB whole) and without. Target: flat.
#
# Each command runs once to warm the page cache, then RUNS times (default 3); the median is shown.
# Data is generated once under BENCH_DIR (default /tmp/secmon-bench) and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
files=${FILES:-100000}
size_mb=${SIZE_MB:-1024}
dir=${BENCH_DIR:-/tmp/secmon-bench}
mkdir -p "$dir"

# SECMON_BIN: a release binary built before (skips the build).
if [ -n "${SECMON_BIN:-}" ]; then
  bin=$SECMON_BIN
else
  swift build -c release --product secmon >/dev/null
  bin=$(swift build -c release --show-bin-path)/secmon
fi

python3 - "$bin" "$runs" "$files" "$size_mb" "$dir" <<'PY'
import os, random, shutil, statistics, subprocess, sys, tempfile, time
binary, runs, files, size_mb, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def run(argv, ok=(0,)):
    """Wall seconds and max RSS (KiB) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        sys.exit(f"{' '.join(argv[:3])}... exited {code}: {proc.stderr.read().decode()[-500:]}")
    return wall, usage.ru_maxrss

def median(argv, ok=(0,), setup=None):
    if setup: setup()
    run(argv, ok)
    walls = []
    for _ in range(runs):
        if setup: setup()
        walls.append(run(argv, ok)[0])
    return statistics.median(walls)

# 1. A tree of `files` files, 100 per directory, sizes 0..16 KiB from a seeded generator.
tree = os.path.join(base, f"tree-{files}")
if not os.path.exists(tree + ".done"):
    shutil.rmtree(tree, ignore_errors=True)
    rng = random.Random(42)
    block = rng.randbytes(16384)
    for i in range(files):
        d = os.path.join(tree, f"d{i // 10000:02d}", f"s{(i // 100) % 100:02d}")
        if i % 100 == 0: os.makedirs(d, exist_ok=True)
        n = rng.randrange(0, 16385)
        start = rng.randrange(0, 16384 - n + 1) if n < 16384 else 0
        with open(os.path.join(d, f"f{i:06d}.dat"), "wb") as f:
            f.write(i.to_bytes(8, "little") + block[start:start + n])
    open(tree + ".done", "w").close()
total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(tree) for f in fs)
listing = os.path.join(base, "tree.list")
subprocess.run(f"find {tree} -type f -print0 > {listing}", shell=True, check=True)
data = tempfile.mkdtemp(prefix="secmon-fim-bench-")
def fresh_data():
    shutil.rmtree(data, ignore_errors=True); os.makedirs(data)
rows = []
rows.append(("sha256sum (find | xargs)", median(["sh", "-c", f"xargs -0 sha256sum < {listing}"])))
rows.append(("openssl dgst -sha256 (xargs)", median(["sh", "-c", f"xargs -0 openssl dgst -sha256 < {listing}"])))
rows.append(("secmon fim baseline", median([binary, "fim", "baseline", tree, "--data-dir", data, "--ignore", "/nothing"], setup=fresh_data)))
run([binary, "fim", "baseline", tree, "--data-dir", data])
rows.append(("secmon fim check", median([binary, "fim", "check", "--data-dir", data])))
print(f"FIM: {files} files, {total / 1e6:.0f} MB in {files // 100} directories; {runs} runs each after a warm-up (page cache warm)")
print(f"{'command':<32}{'median s':>10}{'files/s':>11}{'MB/s':>9}")
for name, wall in rows:
    print(f"{name:<32}{wall:>10.2f}{files / wall:>11.0f}{total / 1e6 / wall:>9.0f}")
openssl = rows[1][1]
print(f"baseline / openssl: {rows[2][1] / openssl:.2f}; check / openssl: {rows[3][1] / openssl:.2f} (target: at most 1.5)")
shutil.rmtree(data, ignore_errors=True)
print()

# 2. and 3. Random files of 16 MiB, 256 MiB and size_mb MiB.
def blob(mb):
    path = os.path.join(base, f"random-{mb}m.bin")
    if not os.path.exists(path) or os.path.getsize(path) != mb << 20:
        with open("/dev/urandom", "rb") as src, open(path, "wb") as out:
            for _ in range(mb): out.write(src.read(1 << 20))
    return path
big = blob(size_mb)
rows = []
rows.append(("sha256sum", median(["sha256sum", big])))
rows.append(("openssl dgst -sha256", median(["openssl", "dgst", "-sha256", big])))
# The same three digests the scanner computes, one openssl run each, as a user would get them.
rows.append(("openssl md5, sha1, sha256", median(["sh", "-c", f"openssl dgst -md5 {big}; openssl dgst -sha1 {big}; openssl dgst -sha256 {big}"])))
rows.append(("secmon scan", median([binary, "scan", "--no-database", big])))
print(f"Scanner: one file of {size_mb} MiB of random bytes; {runs} runs each after a warm-up")
print(f"{'command':<32}{'median s':>10}{'MB/s':>9}")
for name, wall in rows:
    print(f"{name:<32}{wall:>10.2f}{(size_mb << 20) / 1e6 / wall:>9.0f}")
print(f"scan / openssl sha256: {rows[3][1] / rows[1][1]:.2f} (target: at most 1.5); scan / openssl's three digests: {rows[3][1] / rows[2][1]:.2f}")
print("(the scanner also computes MD5, which no instruction speeds up: openssl's MD5 alone takes longer than 1.5 times its SHA-256)")
print()
print(f"{'scanner peak memory':<32}{'file MiB':>10}{'max RSS MiB':>13}")
for mb in sorted({16, 256, size_mb}):
    print(f"{'secmon scan':<32}{mb:>10}{run([binary, 'scan', '--no-database', blob(mb)])[1] / 1024:>13.1f}")
for mb in sorted({16, 256, size_mb}):
    print(f"{'secmon scan --yara none':<32}{mb:>10}{run([binary, 'scan', '--no-database', '--yara', 'none', blob(mb)])[1] / 1024:>13.1f}")
print("(libyara maps a file whole, up to its cap of 64 MiB: those pages count in the first rows' RSS)")
PY
