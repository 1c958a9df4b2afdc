#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with the Swift toolchain:
#   - installs what the tests need when it is missing (PostgreSQL, Chromium and its driver, libyara,
#     rsyslog, and
#     pySigma, the Sigma project's library, with pip: the pack must stay valid Sigma);
#   - starts a throw-away PostgreSQL cluster on a free loopback port, and removes it at the end;
#   - builds everything and runs `swift test` against SQLite and PostgreSQL;
#   - then (for the whole suite, without arguments) scripts/security-scan.sh's fast profile: sqlmap
#     against the login form and the event filters of a server on loopback.
# Extra arguments go to `swift test` (for example: scripts/test.sh --filter RoleMatrix).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v sqlmap >/dev/null 2>&1 || missing+=(sqlmap)
# rsyslog: the SIEM export test sends alerts to a real rsyslogd on loopback.
[ -x /usr/sbin/rsyslogd ] || missing+=(rsyslog)
# libyara, loaded at run time by the file scanner (SecMon builds and runs without it).
compgen -G '/usr/lib/*/libyara.so.*' >/dev/null || compgen -G '/usr/lib/libyara.so.*' >/dev/null || missing+=(libyara9)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import sigma.collection' >/dev/null 2>&1; then
  echo "test.sh: installing pySigma (pip)"
  python3 -m pip install --quiet pysigma 2>/dev/null || python3 -m pip install --quiet --break-system-packages pysigma
fi

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pgdir=$(mktemp -d /tmp/secmon-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password="secmon-test-$$"
run_pg() {
  # PostgreSQL refuses to run as root: use its own account then.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then chown postgres "$pgdir"; fi
stop_pg() {
  run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap stop_pg EXIT
echo "$password" > "$pgdir/pw"
chmod 600 "$pgdir/pw"
[ "$(id -u)" -eq 0 ] && chown postgres "$pgdir/pw"
run_pg "$pgbin/initdb" -D "$pgdir/data" -U secmon --pwfile="$pgdir/pw" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c fsync=off -c max_connections=600" start >/dev/null
echo "test.sh: PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throw-away, removed at exit)"

# chromedriver for the browser test, outside the test process (see Tests/AppTests/Support/WebDriver.swift).
driver_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chromedriver --port="$driver_port" --allowed-ips=127.0.0.1 >"$pgdir/chromedriver.log" 2>&1 &
driver_pid=$!
trap 'kill $driver_pid 2>/dev/null || true; stop_pg' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$driver_port") 2>/dev/null && break
  sleep 0.1
done

export SECMON_TEST_POSTGRES_URL="postgres://secmon:$password@127.0.0.1:$port/postgres"
export SECMON_TEST_CHROMEDRIVER_URL="http://127.0.0.1:$driver_port"
export SECMON_TEST_REQUIRE_ALL=1
swift build --build-tests
swift test "$@"
if [ $# -eq 0 ]; then
  # The libFuzzer target's seed corpus, replayed by the ordinary build (scripts/fuzz.sh fuzzes).
  "$(swift build --show-bin-path)/secmon-fuzz" fuzz/corpus/*
  scripts/security-scan.sh
fi
