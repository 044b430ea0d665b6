#!/usr/bin/env bash
# The README's load-balancer example, for real: Debian's nginx with examples/nginx-keyward.conf
# (only its upstream addresses and listen port changed) in front of two Keyward servers on one
# throwaway PostgreSQL cluster (scripts/pg.sh). Through nginx: signup, confirm, a user key;
# requests reach both servers; one server killed with SIGKILL and every request still
# answered; a key revoked through nginx refused at once. Installs nginx when missing.
#
#   sudo bash scripts/lb-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  (service nginx stop || true) >/dev/null 2>&1
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
cargo build --release --locked --quiet --bin keyward

work=$(mktemp -d); chmod 755 "$work"
pids=(); pg_dir=""
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -n "$pg_dir" ] && bash scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "lb smoke: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

pg_env=$(bash scripts/pg.sh start); eval "$pg_env"
pg_dir=$KEYWARD_PG_DIR
psql -q "$KEYWARD_TEST_DATABASE_URL" -c "CREATE DATABASE keyward_lb"
url="${KEYWARD_TEST_DATABASE_URL%/*}/keyward_lb"

ports=()
for i in 0 1; do
  p=$(free_port); ports+=("$p")
  target/release/keyward serve --bind "127.0.0.1:$p" --database-url "$url" \
    --auth-failures-per-minute 0 --emails-per-hour 0 --log-level info 2>"$work/server-$i.log" &
  pids+=($!)
done
for i in 0 1; do
  for _ in $(seq 1 200); do
    curl -fs -o /dev/null "http://127.0.0.1:${ports[$i]}/readyz" && break
    kill -0 "${pids[$i]}" 2>/dev/null || { cat "$work/server-$i.log"; fail "server $i did not start"; }
    sleep 0.05
  done
done

lb=$(free_port)
sed -e "s/keyward-a:61016/127.0.0.1:${ports[0]}/" -e "s/keyward-b:61016/127.0.0.1:${ports[1]}/" \
  -e "s/listen 80;/listen 127.0.0.1:$lb;/" examples/nginx-keyward.conf >"$work/site.conf"
cat >"$work/nginx.conf" <<CONF
daemon on;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events {}
http {
  access_log $work/nginx-access.log;
  client_body_temp_path $work/body;
  proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi;
  uwsgi_temp_path $work/uwsgi;
  scgi_temp_path $work/scgi;
  include $work/site.conf;
}
CONF
"$nginx_bin" -t -c "$work/nginx.conf" -p "$work" >/dev/null 2>&1 || { "$nginx_bin" -t -c "$work/nginx.conf" -p "$work"; fail "nginx refused the example"; }
"$nginx_bin" -c "$work/nginx.conf" -p "$work"
base="http://127.0.0.1:$lb"
json='Content-Type: application/json'
for _ in $(seq 1 100); do curl -fs -o /dev/null "$base/readyz" && break; sleep 0.05; done

code=$(curl -s -o /dev/null -w '%{http_code}' -H "$json" \
  -d '{"name":"Lb User","email":"lb@example.com","i_agree":true}' "$base/v0/auth/signup")
[ "$code" = 202 ] || fail "signup through nginx answered $code"
token=""
for _ in $(seq 1 100); do
  token=$(sed -n 's/^Confirmation Token: //p' "$work"/server-*.log | head -1)
  [ -n "$token" ] && break; sleep 0.05
done
[ -n "$token" ] || fail "no confirmation token in either server's log"
jwt=$(curl -fs -H "$json" -d "{\"token\":\"$token\"}" "$base/v0/auth/confirm" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
slug=lb-user
key_json=$(curl -fs -H "$json" -H "Authorization: Bearer $jwt" -d '{"name":"lb"}' "$base/v0/users/$slug/keys")
key=$(echo "$key_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
key_uuid=$(echo "$key_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uuid"])')

for _ in $(seq 1 40); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$base/v0/users/$slug")
  [ "$code" = 200 ] || fail "a key made through nginx answered $code"
done
for i in 0 1; do
  # The request line names the route template, not the path.
  n=$(grep -cE 'GET.*/v0/users/\{user\}([^/]|$)' "$work/server-$i.log" || true)
  [ "$n" -gt 0 ] || fail "server $i got none of the requests: nginx did not spread them"
done

kill -KILL "${pids[0]}"
for _ in $(seq 1 40); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$base/v0/users/$slug")
  [ "$code" = 200 ] || fail "with one server killed, a request through nginx answered $code"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $jwt" \
  "$base/v0/users/$slug/keys/$key_uuid")
[ "$code" = 204 ] || fail "revoke through nginx answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$base/v0/users/$slug")
[ "$code" = 401 ] || fail "a revoked key answered $code through nginx"
echo "lb smoke OK: nginx (examples/nginx-keyward.conf) spread requests over two servers on one PostgreSQL database, kept answering with one killed, and a revoke held at once"
