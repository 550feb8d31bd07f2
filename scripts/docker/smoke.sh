#!/usr/bin/env bash
# Docker smoke test (`make docker-smoke`): builds the image from this work tree, runs the Bot API
# emulator and the bot from it on a private network, waits for the bot's HEALTHCHECK to report
# healthy, sends /start as a user and waits for the consent question. Also checks compose.yaml
# with `docker compose config`. Prints one JSON line on stdout:
#   {"image_bytes": ..., "seconds_to_healthy": ..., "ok": true}
# Everything it starts (containers, their volumes, the network) is removed on exit; on failure
# both containers' logs are printed first and the exit status is non-zero. The image is kept.
#
# Settings (environment):
#   DOCKER_BASE_IMAGE_SCRIPT  run when Docker is unusable or the base image is absent and cannot
#                             be pulled (default: shared/docker/base-image.sh beside this
#                             checkout or beside one of its parent folders, else
#                             /work/shared/docker/base-image.sh; it installs Debian's docker.io,
#                             starts dockerd, builds a local base image)
#   SMOKE_DOCKERFILE          the Dockerfile to build (default Dockerfile)
#   SMOKE_IMAGE               the tag to build (default coachbot:smoke)
#   SMOKE_HEALTH_TIMEOUT      seconds the bot has to become healthy (default 120)
#   SMOKE_REPLY_TIMEOUT       seconds the bot has to answer /start (default 60)
#   SMOKE_PULL_TIMEOUT        seconds to try pulling a missing base image (default 300)
set -euo pipefail
cd "$(dirname "$0")/../.."

find_base_script() {  # the project's shared folder sits beside the checkout (../shared)
  local dir
  dir=$(pwd)
  while [ "$dir" != / ]; do
    dir=$(dirname "$dir")
    [ -f "$dir/shared/docker/base-image.sh" ] && { echo "$dir/shared/docker/base-image.sh"; return; }
  done
  echo /work/shared/docker/base-image.sh  # where this project's machines keep it
}
BASE_SCRIPT=${DOCKER_BASE_IMAGE_SCRIPT:-$(find_base_script)}
DOCKERFILE=${SMOKE_DOCKERFILE:-Dockerfile}
IMAGE=${SMOKE_IMAGE:-coachbot:smoke}
HEALTH_TIMEOUT=${SMOKE_HEALTH_TIMEOUT:-120}
REPLY_TIMEOUT=${SMOKE_REPLY_TIMEOUT:-60}
PULL_TIMEOUT=${SMOKE_PULL_TIMEOUT:-300}
# A stable phrase of the consent question (content/messages.yaml, `welcome`).
CONSENT_PHRASE="Do you agree?"
# Well-formed (digits:30+ token characters) but fake: the emulator accepts any such token.
FAKE_TOKEN="123456789:smoke-test-token-aaaaaaaaaaaaaaaaaaaa"
USER_ID=1001

RUN_ID="coachbot-smoke-$(date +%s)-$$"
NETWORK=$RUN_ID
EMULATOR=$RUN_ID-emulator
BOT=$RUN_ID-bot
started=()
network_created=0
image_bytes=null
seconds_to_healthy=null

log() { printf 'docker-smoke: %s\n' "$*" >&2; }

result() {  # the one JSON line; $1 true or false, $2 an optional error
  local error="" text=${2:-}
  if [ -n "$text" ]; then  # kept valid JSON: no backslashes, double quotes or line breaks
    text=${text//\\//}; text=${text//\"/\'}; text=${text//$'\n'/ }; text=${text//$'\t'/ }
    error=", \"error\": \"$text\""
  fi
  printf '{"image_bytes": %s, "seconds_to_healthy": %s, "ok": %s%s}\n' \
    "$image_bytes" "$seconds_to_healthy" "$1" "$error"
}

fail() {
  log "FAILED: $*"
  result false "$*"
  exit 1
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$status" -ne 0 ]; then
    for name in "${started[@]}"; do
      log "---- docker logs $name ----"
      docker logs "$name" >&2 2>&1 || true
    done
  fi
  for name in "${started[@]}"; do
    docker rm -f -v "$name" >/dev/null 2>&1 || log "could not remove container $name"
  done
  if [ "$network_created" -eq 1 ]; then
    docker network rm "$NETWORK" >/dev/null 2>&1 || log "could not remove network $NETWORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'log interrupted; result false interrupted; exit 130' INT
trap 'log terminated; result false terminated; exit 143' TERM

run_base_script() {  # $1 why
  if [ ! -f "$BASE_SCRIPT" ]; then
    fail "$1, and there is no $BASE_SCRIPT to set Docker up (set DOCKER_BASE_IMAGE_SCRIPT, or install Docker and make the base image available)"
  fi
  log "$1: running $BASE_SCRIPT $BASE_IMAGE"
  bash "$BASE_SCRIPT" "$BASE_IMAGE" >&2 \
    || fail "$1, and $BASE_SCRIPT failed (it needs root, Debian's package archive and debootstrap)"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# -- Docker and the base image -------------------------------------------------------------------
[ -f "$DOCKERFILE" ] || fail "no Dockerfile at $DOCKERFILE"
BASE_IMAGE=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$DOCKERFILE")
if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
  run_base_script "Docker is unavailable (no docker command, or no daemon answers docker info)"
  docker info >/dev/null 2>&1 || fail "Docker is still unavailable after $BASE_SCRIPT"
fi
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "base image $BASE_IMAGE absent: trying to pull it"
  if ! timeout "$PULL_TIMEOUT" docker pull -q "$BASE_IMAGE" >/dev/null 2>&1; then
    run_base_script "no registry reachable for $BASE_IMAGE"
  fi
fi

# -- compose.yaml --------------------------------------------------------------------------------
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose=(docker-compose)
elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  log "installing Debian's docker-compose to check compose.yaml"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends docker-compose >/dev/null 2>&1 \
    || fail "neither docker compose nor docker-compose is available, and apt-get could not install docker-compose"
  compose=(docker-compose)
else
  fail "neither docker compose nor docker-compose is available to check compose.yaml"
fi
# The required variables get dummy values; the optional ones stay as the operator's shell has them.
TELEGRAM_BOT_TOKEN=1:x POSTGRES_PASSWORD=x "${compose[@]}" -f compose.yaml config -q \
  || fail "compose.yaml does not pass ${compose[*]} config"
log "compose.yaml passes ${compose[*]} config"

# -- build ---------------------------------------------------------------------------------------
log "building $IMAGE from $DOCKERFILE"
previous=$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
docker build -q -f "$DOCKERFILE" -t "$IMAGE" . >/dev/null || fail "docker build failed"
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$IMAGE")" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true  # the image this tag replaced, unless in use
fi
image_bytes=$(docker image inspect --format '{{.Size}}' "$IMAGE")

# -- the emulator --------------------------------------------------------------------------------
docker network create "$NETWORK" >/dev/null || fail "could not create network $NETWORK"
network_created=1
started+=("$EMULATOR")
docker run -d --name "$EMULATOR" --network "$NETWORK" --no-healthcheck "$IMAGE" \
  python -m coachbot.sandbox --host 0.0.0.0 --port 8081 >/dev/null \
  || fail "could not start the emulator container"
emulator_ready=0
for _ in $(seq 60); do
  if docker exec "$EMULATOR" python -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8081/_sandbox/stats', timeout=2)" \
    >/dev/null 2>&1; then
    emulator_ready=1
    break
  fi
  [ "$(docker inspect --format '{{.State.Running}}' "$EMULATOR")" = true ] \
    || fail "the emulator container exited"
  sleep 0.5
done
[ "$emulator_ready" -eq 1 ] || fail "the emulator did not answer within 30 s"

# -- the bot: default CMD (migrate, then run), SQLite in the image's volume ----------------------
# The image checks health every 30 s (start period 30 s); here every second, so the time to
# healthy is measured to about a second. (HEALTHCHECK --start-interval would do it in the image,
# but Debian's Docker engine, 20.10, refuses that flag.)
started+=("$BOT")
t0=$(now)
docker run -d --name "$BOT" --network "$NETWORK" --health-interval 1s \
  -e TELEGRAM_BOT_TOKEN="$FAKE_TOKEN" -e TELEGRAM_API_URL="http://$EMULATOR:8081" \
  "$IMAGE" >/dev/null || fail "could not start the bot container"
deadline=$(( $(date +%s) + HEALTH_TIMEOUT ))
while :; do
  state=$(docker inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$BOT")
  case $state in
    "running healthy") break ;;
    running*) ;;
    *) fail "the bot container stopped before it was healthy (state: $state, exit code $(docker inspect --format '{{.State.ExitCode}}' "$BOT"))" ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || fail "the bot was not healthy within $HEALTH_TIMEOUT s (state: $state)"
  sleep 0.5
done
seconds_to_healthy=$(elapsed "$t0" "$(now)")
log "bot healthy after $seconds_to_healthy s"

# -- a user sends /start -------------------------------------------------------------------------
reply=$(docker exec -i "$EMULATOR" python - http://127.0.0.1:8081 "$USER_ID" "$CONSENT_PHRASE" \
  "$REPLY_TIMEOUT" <scripts/docker/start_chat.py 2>&1) || fail "/start: $reply"
log "/start answered: $reply"

result true
