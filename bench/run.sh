#!/usr/bin/env bash
# Keyward's benchmark. Builds the release binary, seeds a fresh database through Keyward's
# own code (one organization; one project with 100,000 project keys; 1,000 users each with
# a user key; a few legacy tokens), starts the server and drives it with wrk.
#
#   bash bench/run.sh            # 10 s per scenario
#   bash bench/run.sh --quick    # 2 s per scenario, fewer keys: what CI runs (no timing asserted)
#   bash bench/run.sh --soak [SECONDS]   # S9 for SECONDS (default 300) in 10 s windows, with
#                                        # keys created and revoked all along (see bench/soak.py)
#   bash bench/run.sh --database postgres [--servers N]   # the same on a throwaway PostgreSQL
#                                        # cluster (scripts/pg.sh), N servers sharing it, wrk's
#                                        # threads dealt out over them (bench/wrk.lua)
#   bash bench/run.sh --backends [--quick]   # S1, S2, S5, S7, S9 for SQLite with one server,
#                                        # PostgreSQL with one and with two, in one table
#   BENCH_BIN=/path/to/keyward bash bench/run.sh   # serve with another build (to compare two)
#
# Prints a table, writes bench/results/latest.json (or backends.json), and checks the targets
# of bench/README.md (full runs only). Any error response or socket error fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false; soak=0; database=sqlite; servers=1; backends=false
while [ $# -gt 0 ]; do
  case "$1" in
  --quick) quick=true ;;
  --soak) quick=true; soak=300
    if [ -n "${2:-}" ] && [ "${2#-}" = "$2" ]; then soak=$2; shift; fi ;;
  --database) database=${2:?--database sqlite or postgres}; shift ;;
  --servers) servers=${2:?--servers N}; shift ;;
  --backends) backends=true ;;
  *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$database" in sqlite | postgres) ;; *) echo "--database: sqlite or postgres" >&2; exit 2 ;; esac
if [ "$servers" -gt 1 ] && [ "$database" = sqlite ]; then
  echo "--servers N > 1 needs --database postgres (one SQLite file has one server)" >&2; exit 2
fi
if $quick; then duration=${BENCH_DURATION:-2s}; warmup=1s; keys=${BENCH_KEYS:-20000}; users=100
else duration=${BENCH_DURATION:-10s}; warmup=2s; keys=${BENCH_KEYS:-100000}; users=1000; fi

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --locked --quiet --bin keyward --example seed

work=$(mktemp -d)
pids=()
pg_dir=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$pg_dir" ] && bash scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# A PostgreSQL cluster for the runs that use one (made once, a fresh database per run).
pg_admin=""
if [ "$database" = postgres ] || $backends; then
  pg_env=$(bash scripts/pg.sh start)
  eval "$pg_env"
  pg_dir=$KEYWARD_PG_DIR; pg_admin=$KEYWARD_TEST_DATABASE_URL
  unset KEYWARD_TEST_DATABASE_URL
fi
db_serial=0
# seed DATABASE: a fresh database, seeded; sets db_args (how a server is pointed at it).
seed() {
  db_serial=$((db_serial + 1))
  if [ "$1" = postgres ]; then
    local name="keyward_bench_$db_serial"
    psql -q "$pg_admin" -c "CREATE DATABASE $name" >/dev/null
    db_args=(--database-url "${pg_admin%/*}/$name")
  else
    db_args=(--db "$work/keyward-$db_serial.db")
    db_file="$work/keyward-$db_serial.db"
  fi
  target/release/examples/seed "${db_args[@]}" --keys "$keys" --users "$users" --tokens 5 \
    --out "$work/seed.json" >/dev/null
  # Planner statistics, as a database in service has them (autovacuum would, in a while).
  [ "$1" = postgres ] && psql -q "${pg_admin%/*}/keyward_bench_$db_serial" -c ANALYZE
  user_key=$(cred admin_user_key); jwt=$(cred admin_jwt); legacy=$(cred legacy_tokens)
  project_key=$(cred project_key); key_uuid=$(cred project_key_uuid)
}
cred() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d[sys.argv[2]]; print(v[0] if isinstance(v, list) else v)' "$work/seed.json" "$1"; }

# start N: N servers on the seeded database; sets pids, ports, base, startup_ms.
start() {
  pids=(); ports=()
  local i started p
  started=$(date +%s%N)
  for ((i = 0; i < $1; i++)); do
    p=$((20000 + RANDOM % 20000))
    "${BENCH_BIN:-target/release/keyward}" serve --bind "127.0.0.1:$p" "${db_args[@]}" \
      --log-level warn 2>"$work/server-$i.log" &
    pids+=($!); ports+=("$p")
  done
  for ((i = 0; i < $1; i++)); do
    until curl -fs -o /dev/null "http://127.0.0.1:${ports[$i]}/v0/server/version"; do
      kill -0 "${pids[$i]}" 2>/dev/null || { cat "$work/server-$i.log"; exit 1; }
      sleep 0.002
    done
  done
  startup_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  base="http://127.0.0.1:${ports[0]}"
  # wrk's threads are dealt out over the servers: at least two threads, one per server.
  threads=$(( $1 > 2 ? $1 : 2 ))
  bench_ports=$(IFS=,; echo "${ports[*]}")
  [ "$1" -gt 1 ] || bench_ports=""
}

# stop: peak resident memory of each server (KB, comma-separated) into rss_list; stops them.
stop() {
  local p list=()
  for p in "${pids[@]}"; do list+=("$(awk '/VmHWM/ {print $2}' "/proc/$p/status")"); done
  rss_list=$(IFS=,; echo "${list[*]}")
  for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p" || true; done
  pids=()
}

list_path="/v0/projects/bench-project/keys"

run() { # name connections auth mode path [env...]
  local name=$1 conns=$2 auth=$3 mode=$4 path=$5; shift 5
  local line length
  # A short unmeasured warm-up first (connections, caches, threads), as benchmarks do.
  for length in "$warmup" "$duration"; do
    line=$(env BENCH_AUTH="$auth" BENCH_MODE="$mode" BENCH_PORTS="$bench_ports" "$@" \
      wrk -t"$threads" -c"$conns" -d"$length" --timeout 5s -s bench/wrk.lua "$base$path" | grep '^BENCH ')
  done
  echo "{\"scenario\":\"$name\",\"connections\":$conns,${line#BENCH \{}" >>"$results"
}

mkdir -p bench/results
if $backends; then
  # S1, S2, S5, S7, S9 on each configuration, each on a freshly seeded database.
  results="$work/backends.jsonl"
  for config in "sqlite 1" "postgres 1" "postgres 2"; do
    set -- $config
    seed "$1"; start "$2"
    key_path="/v0/projects/bench-project/keys/$key_uuid"
    results_one="$work/one.jsonl"; : >"$results_one"; results=$results_one
    run S1 64 "" get /v0/server/version
    run S2 64 "$user_key" get "$key_path"
    run S5 16 "$user_key" get "$list_path"
    run S7 16 "$user_key" post "$list_path"
    run S9 64 "$user_key" mix / BENCH_GET="$key_path" BENCH_LIST="$list_path" BENCH_POST="$list_path"
    stop
    python3 -c 'import json,sys; [print(json.dumps(dict(json.loads(l), backend=sys.argv[1], servers=int(sys.argv[2]), rss_kb=sys.argv[3]))) for l in open(sys.argv[4])]' \
      "$1" "$2" "$rss_list" "$results_one" >>"$work/backends.jsonl"
  done
  status=0
  python3 bench/backends.py "$work/backends.jsonl" "$quick" "$keys" >bench/results/backends.txt || status=$?
  cat bench/results/backends.txt
  exit "$status"
fi

seed "$database"; start "$servers"
key_path="/v0/projects/bench-project/keys/$key_uuid"
pid=${pids[0]}
if [ "$soak" -gt 0 ]; then
  [ "$database" = sqlite ] || { echo "--soak measures SQLite's WAL: no --database postgres" >&2; exit 2; }
  # The churn (4 connections creating and revoking keys) runs for the whole soak; S9 runs
  # in 10 s windows, after each of which the files and the memory are measured.
  env BENCH_AUTH="$user_key" BENCH_MODE=churn wrk -t1 -c4 -d"$((soak + 2))s" --timeout 5s \
    -s bench/wrk.lua "$base$list_path" >"$work/churn.txt" &
  churn=$!
  windows="$work/windows.jsonl"
  for ((t = 10; t <= soak; t += 10)); do
    line=$(env BENCH_AUTH="$user_key" BENCH_MODE=mix BENCH_GET="$key_path" BENCH_LIST="$list_path" \
      BENCH_POST="$list_path" wrk -t2 -c64 -d10s --timeout 5s -s bench/wrk.lua "$base/" | grep '^BENCH ')
    wal=$(stat -c %s "$db_file-wal" 2>/dev/null || echo 0)
    echo "{\"t\":$t,\"wal_bytes\":$wal,\"db_bytes\":$(stat -c %s "$db_file"),\"rss_kb\":$(awk '/VmRSS/ {print $2}' "/proc/$pid/status"),${line#BENCH \{}" >>"$windows"
  done
  wait "$churn" || true
  kill -TERM "$pid"; wait "$pid" || true
  mkdir -p bench/results
  python3 bench/soak.py "$windows" "$work/churn.txt" >bench/results/soak.txt || status=$?
  cat bench/results/soak.txt
  exit "${status:-0}"
fi
results="$work/results.jsonl"
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

stop

status=0
python3 bench/report.py "$results" "$startup_ms" "$rss_list" "${flood_requests:-0}" "$quick" "$keys" \
  "$database" "$servers" >bench/results/latest.txt || status=$?
cat bench/results/latest.txt
exit "$status"
