#!/usr/bin/env bash
# Keyward's benchmark. Builds the release binary, seeds a fresh database through Keyward's
# own code (one organization; one project with 100,000 project keys; 1,000 users each with
# a user key; a few legacy tokens), starts the server and drives it with wrk.
#
#   bash bench/run.sh            # 10 s per scenario
#   bash bench/run.sh --quick    # 2 s per scenario, fewer keys: what CI runs (no timing asserted)
#   bash bench/run.sh --soak [SECONDS]   # S9 for SECONDS (default 300) in 10 s windows, with
#                                        # keys created and revoked all along (see bench/soak.py)
#   BENCH_BIN=/path/to/keyward bash bench/run.sh   # serve with another build (to compare two)
#
# Prints a table, writes bench/results/latest.json, and checks the targets of bench/README.md
# (full runs only). Any error response or socket error in any scenario fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false; soak=0
[ "${1:-}" = "--quick" ] && quick=true
if [ "${1:-}" = "--soak" ]; then soak=${2:-300}; quick=true; fi
if $quick; then duration=${BENCH_DURATION:-2s}; warmup=1s; keys=${BENCH_KEYS:-20000}; users=100
else duration=${BENCH_DURATION:-10s}; warmup=2s; keys=${BENCH_KEYS:-100000}; users=1000; fi

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --locked --quiet --bin keyward --example seed

work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
target/release/examples/seed --db "$work/keyward.db" --keys "$keys" --users "$users" --tokens 5 \
  --out "$work/seed.json" >/dev/null
cred() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d[sys.argv[2]]; print(v[0] if isinstance(v, list) else v)' "$work/seed.json" "$1"; }
user_key=$(cred admin_user_key); jwt=$(cred admin_jwt); legacy=$(cred legacy_tokens)
project_key=$(cred project_key); key_uuid=$(cred project_key_uuid)

port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
started=$(date +%s%N)
"${BENCH_BIN:-target/release/keyward}" serve --bind "127.0.0.1:$port" --db "$work/keyward.db" --log-level warn 2>"$work/server.log" &
pid=$!
until curl -fs -o /dev/null "$base/v0/server/version"; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.002
done
startup_ms=$(( ($(date +%s%N) - started) / 1000000 ))

key_path="/v0/projects/bench-project/keys/$key_uuid"
list_path="/v0/projects/bench-project/keys"

if [ "$soak" -gt 0 ]; then
  # The churn (4 connections creating and revoking keys) runs for the whole soak; S9 runs
  # in 10 s windows, after each of which the files and the memory are measured.
  env BENCH_AUTH="$user_key" BENCH_MODE=churn wrk -t1 -c4 -d"$((soak + 2))s" --timeout 5s \
    -s bench/wrk.lua "$base$list_path" >"$work/churn.txt" &
  churn=$!
  windows="$work/windows.jsonl"
  for ((t = 10; t <= soak; t += 10)); do
    line=$(env BENCH_AUTH="$user_key" BENCH_MODE=mix BENCH_GET="$key_path" BENCH_LIST="$list_path" \
      BENCH_POST="$list_path" wrk -t2 -c64 -d10s --timeout 5s -s bench/wrk.lua "$base/" | grep '^BENCH ')
    wal=$(stat -c %s "$work/keyward.db-wal" 2>/dev/null || echo 0)
    echo "{\"t\":$t,\"wal_bytes\":$wal,\"db_bytes\":$(stat -c %s "$work/keyward.db"),\"rss_kb\":$(awk '/VmRSS/ {print $2}' "/proc/$pid/status"),${line#BENCH \{}" >>"$windows"
  done
  wait "$churn" || true
  kill -TERM "$pid"; wait "$pid" || true
  mkdir -p bench/results
  python3 bench/soak.py "$windows" "$work/churn.txt" >bench/results/soak.txt || status=$?
  cat bench/results/soak.txt
  exit "${status:-0}"
fi
results="$work/results.jsonl"
run() { # name connections auth mode path [env...]
  local name=$1 conns=$2 auth=$3 mode=$4 path=$5; shift 5
  local line length
  # A short unmeasured warm-up first (connections, caches, threads), as benchmarks do.
  for length in "$warmup" "$duration"; do
    line=$(env BENCH_AUTH="$auth" BENCH_MODE="$mode" "$@" \
      wrk -t2 -c"$conns" -d"$length" --timeout 5s -s bench/wrk.lua "$base$path" | grep '^BENCH ')
  done
  echo "{\"scenario\":\"$name\",\"connections\":$conns,${line#BENCH \{}" >>"$results"
}

run S1 64 "" get /v0/server/version
run S2 64 "$user_key" get "$key_path"
run S3 64 "$jwt" get "$key_path"
run S4 64 "$legacy" get "$key_path"
run S5 16 "$user_key" get "$list_path"
run S6 16 "$user_key" get "$list_path?per_page=255&page=300"
run S7 16 "$user_key" post "$list_path"
run S8 64 "$project_key" get /v0/projects/bench-project
run S9 64 "$user_key" mix / BENCH_GET="$key_path" BENCH_LIST="$list_path" BENCH_POST="$list_path"
# Valid callers (S2 at 32 connections) while a flood of failed authentications runs.
fake="bencher_user_$(python3 -c 'import secrets,string; print("".join(secrets.choice(string.ascii_letters+string.digits) for _ in range(30)))')"
env BENCH_AUTH="$fake" wrk -t1 -c32 -d"$(( ${duration%s} + ${warmup%s} ))s" --timeout 5s -s bench/wrk.lua "$base$key_path" >"$work/flood.txt" &
flood=$!
run S10 32 "$user_key" get "$key_path"
wait "$flood" || true
flood_requests=$(sed -n 's/^BENCH .*"requests":\([0-9]*\).*/\1/p' "$work/flood.txt")

rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"; wait "$pid" || true

mkdir -p bench/results
status=0
python3 bench/report.py "$results" "$startup_ms" "$rss_kb" "${flood_requests:-0}" "$quick" "$keys" \
  >bench/results/latest.txt || status=$?
cat bench/results/latest.txt
exit "$status"
