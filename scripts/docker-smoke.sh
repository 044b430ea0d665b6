#!/usr/bin/env bash
# Builds Keyward's image from the unmodified Dockerfile and checks a container end to end:
# signup → confirm (token from the container's log) → user key → project → project key,
# through the published port; then a restart (SIGTERM), after which the data and keys must
# still be there and the image's HEALTHCHECK must report healthy. Removes what it created.
#
#   sudo bash scripts/docker-smoke.sh
#
# No Docker engine or registry is needed: ../shared/tools/container.sh (CONTAINER_TOOL)
# sets up podman with locally made debian:bookworm-slim and rust:*-slim-bookworm images.
set -euo pipefail
cd "$(dirname "$0")/.."
tool=${CONTAINER_TOOL:-../shared/tools/container.sh}
# A local clone made elsewhere (e.g. under /tmp) has no shared/ beside it: use the one beside
# the repository it was cloned from.
if [ -z "${CONTAINER_TOOL:-}" ] && [ ! -f "$tool" ]; then
  origin=$(git config --get remote.origin.url || true)
  if [ -n "$origin" ] && [ -f "$origin/../shared/tools/container.sh" ]; then
    tool="$origin/../shared/tools/container.sh"
  fi
fi
[ -f "$tool" ] || { echo "docker smoke: no container tool at $tool (set CONTAINER_TOOL)" >&2; exit 1; }
tag=localhost/keyward:smoke
name=keyward-smoke-$$
volume=keyward-smoke-$$
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
json='Content-Type: application/json'

bash "$tool" build . "$tag"

cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  podman volume rm -f "$volume" >/dev/null 2>&1 || true
  podman rmi -f "$tag" >/dev/null 2>&1 || true
  # The build's intermediate (builder-stage) image is left untagged: remove dangling images.
  podman image prune -f >/dev/null 2>&1 || true
  rm -f "${tmp:-}"
}
trap cleanup EXIT
fail() { echo "docker smoke FAILED: $*" >&2; podman logs "$name" 2>&1 | tail -20 >&2; exit 1; }
wait_up() {
  for _ in $(seq 100); do curl -fs -o /dev/null "$base/v0/server/version" && return 0; sleep 0.2; done
  fail "the container did not answer on $base"
}
expect() { # status method path [auth] [body]
  local want=$1 method=$2 path=$3 auth=${4:-} body=${5:-} got
  local args=(-s -o "$tmp" -w '%{http_code}' -X "$method" "$base$path")
  [ -n "$auth" ] && args+=(-H "Authorization: Bearer $auth")
  [ -n "$body" ] && args+=(-H "$json" -d "$body")
  got=$(curl "${args[@]}")
  [ "$got" = "$want" ] || fail "$method $path answered $got, not $want: $(cat "$tmp")"
}
tmp=$(mktemp)

podman volume create "$volume" >/dev/null
podman run -d --name "$name" -p "127.0.0.1:$port:61016" -v "$volume:/var/lib/keyward/data" "$tag" >/dev/null
wait_up

[ "$(podman exec "$name" id -u)" != 0 ] || fail "the server runs as root"
expect 202 POST /v0/auth/signup "" '{"name":"Docker Smoke","email":"smoke@example.com","i_agree":true}'
token=$(podman logs "$name" 2>&1 | sed -n 's/^Confirmation Token: //p' | tail -1)
[ -n "$token" ] || fail "no confirmation token in the container's log"
expect 200 POST /v0/auth/confirm "" "{\"token\":\"$token\"}"
jwt=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$tmp")
expect 201 POST /v0/users/docker-smoke/keys "$jwt" '{"name":"smoke"}'
user_key=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$tmp")
expect 201 POST /v0/organizations "$user_key" '{"name":"Smoke Org","slug":"smoke-org"}'
expect 201 POST /v0/organizations/smoke-org/projects "$user_key" '{"name":"Smoke Project","slug":"smoke-project"}'
expect 201 POST /v0/projects/smoke-project/keys "$user_key" '{"name":"ci"}'
run_key=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$tmp")
expect 200 GET /v0/projects/smoke-project "$run_key"

podman restart -t 30 "$name" >/dev/null
wait_up
# Read the whole log first: under pipefail, `podman logs | grep -q` fails whenever grep exits
# at its first match while podman is still writing (SIGPIPE), which made this check flaky.
logs=$(podman logs "$name" 2>&1)
grep -q "database closed cleanly" <<<"$logs" || fail "the container did not stop cleanly on SIGTERM"
expect 200 GET /v0/projects/smoke-project "$run_key"
expect 200 GET /v0/users/docker-smoke "$user_key"
expect 200 GET /v0/projects/smoke-project/keys "$jwt"
podman healthcheck run "$name" >/dev/null || fail "the healthcheck did not report healthy"
echo "docker smoke OK: $tag (data and keys survived a restart; healthcheck healthy)"
