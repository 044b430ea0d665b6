#!/usr/bin/env bash
# Measures listing a project that holds many keys: the first page and the last page.
#   bash scripts/scale.sh [KEYS]   (default 100000)
# Builds the release binary, seeds a fresh database through Keyward's own code, starts the
# server, and times each list request 50 times with curl, printing the median and the worst.
set -euo pipefail
cd "$(dirname "$0")/.."
keys=${1:-100000}
work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet --bin keyward --example seed
target/release/examples/seed --db "$work/keyward.db" --keys "$keys" --users 10 --tokens 1 --out "$work/seed.json"
port=$((20000 + RANDOM % 20000))
target/release/keyward serve --bind "127.0.0.1:$port" --db "$work/keyward.db" --log-level warn 2>"$work/log" &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v0/server/version" >/dev/null && break; sleep 0.05; done

token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["admin_user_key"])' "$work/seed.json")
last=$(( (keys + 7) / 8 ))
measure() {
  local label=$1 query=$2 times=()
  for _ in $(seq 50); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$port/v0/projects/bench-project/keys$query")")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" \
    '{ t[NR] = $1 } END { printf "%-34s median %6.2f ms   worst %6.2f ms\n", label, t[int((NR + 1) / 2)] * 1000, t[NR] * 1000 }'
}
total=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/v0/projects/bench-project/keys" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-total-count"{print $2}')
echo "project keys: $keys   x-total-count: $total"
measure "first page (8)" ""
measure "last page (page=$last)" "?page=$last"
measure "per_page=255&page=300" "?per_page=255&page=300"
measure "search=key-09999" "?search=key-09999"
