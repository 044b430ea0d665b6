#!/usr/bin/env bash
# Instructions per S2 request (GET a project key with a user key), counted by callgrind:
# repeatable for one binary whatever else the machine does, unlike wall-clock figures.
#
#   bash bench/instructions.sh [BINARY ...]    # default: target/release/keyward
#   INSTR_PATH=/v0/projects/bench-project/keys bash bench/instructions.sh ...   # S5 instead
#   INSTR_METHOD=POST INSTR_PATH=/v0/projects/bench-project/keys bash bench/instructions.sh ...
#                                                   # S7: creates, one at a time
#
# For each binary and log level (warn, info): runs the server under callgrind, sends 200
# and then 1,200 sequential requests on one connection, and prints the difference / 1,000.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
cargo build --release --locked --quiet --bin keyward --example seed
bins=("$@"); [ ${#bins[@]} -gt 0 ] || bins=(target/release/keyward)
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
target/release/examples/seed --db "$w/seed.db" --keys 2000 --users 10 --tokens 1 --out "$w/seed.json" >/dev/null
python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" "$w/seed.db"
get() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$w/seed.json" "$1"; }
key=$(get admin_user_key); uuid=$(get project_key_uuid)
path=${INSTR_PATH:-/v0/projects/bench-project/keys/$uuid}
measure() { # binary requests level → total instructions
  cp "$w/seed.db" "$w/k.db"; rm -f "$w"/k.db-*
  valgrind --tool=callgrind --callgrind-out-file="$w/cg.out" "$1" serve --bind 127.0.0.1:29888 \
    --db "$w/k.db" --log-level "$3" 2>/dev/null &
  local pid=$!
  until curl -fs -o /dev/null http://127.0.0.1:29888/v0/server/version; do sleep 0.2; done
  python3 - "$2" "$key" "$path" "${INSTR_METHOD:-GET}" <<'PY'
import http.client, sys
n, key, path, method = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", 29888)
headers = {"Authorization": "Bearer " + key}
body, expect = None, 200
if method == "POST":
    headers["Content-Type"] = "application/json"
    body, expect = '{"name":"bench"}', 201
for _ in range(n):
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse(); text = r.read()
    if r.status != expect:
        sys.exit(f"status {r.status}: {text[:200]!r}")
PY
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  awk '/^summary:/ {print $2; exit}' "$w/cg.out"
}
for bin in "${bins[@]}"; do
  for level in warn info; do
    low=$(measure "$bin" 200 "$level"); high=$(measure "$bin" 1200 "$level")
    echo "$bin  log level $level: $(( (high - low) / 1000 )) instructions per request to $path"
  done
done
