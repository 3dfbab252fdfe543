#!/usr/bin/env bash
# Build the booking API image from the repository's Dockerfile and print its reference
# (the only line on stdout; progress goes to stderr).
#
#   IMAGE_BUILDER  podman (default) | buildah | docker
#   BASE_IMAGE     base for both stages; default: what base-image.sh provides (python:3.11-slim
#                  if it is there or pullable, else the local Debian bookworm base)
#   IMAGE_NAME     default localhost/booking-api; tagged with the git SHA of HEAD (+ "-dirty"
#                  when app/ or the Dockerfile have uncommitted changes) and :latest
#   PIP_CA_BUNDLE  CA bundle passed as the optional pip_ca build secret (default: the host's
#                  /etc/ssl/certs/ca-certificates.crt if present; empty: no secret)
# podman and buildah use the project's image store (.run/containers) and containers.conf.
set -euo pipefail
# shellcheck source=tools/container/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"

builder="${IMAGE_BUILDER:-podman}"
case "$builder" in
  podman | buildah | docker) command -v "$builder" >/dev/null \
    || { log "$builder is not installed (make container-setup)"; exit 1; } ;;
  *) log "IMAGE_BUILDER must be podman, buildah or docker, not '$builder'"; exit 2 ;;
esac

if [[ "$builder" == docker ]]; then
  # docker's own store: base-image.sh does not apply; the Dockerfile's pinned default.
  base="${BASE_IMAGE:-$(dockerfile_base)}"
else
  base=$("$REPO/tools/container/base-image.sh")
fi
sha=$(git rev-parse HEAD 2>/dev/null || echo unknown)
tag="$sha"
if [[ "$sha" != unknown && -n "$(git status --porcelain -- app Dockerfile .dockerignore)" ]]; then
  tag="$sha-dirty"
fi
ref="$IMAGE_NAME:$tag"
source_url=$(git remote get-url origin 2>/dev/null || true)

args=(--network=host --build-arg "BASE_IMAGE=$base" --build-arg "GIT_SHA=$sha"
  --build-arg "SOURCE_URL=$source_url" -t "$ref" -t "$IMAGE_NAME:latest" -f Dockerfile
  # Also as --label: buildah 1.28 (Debian 12) reuses a cached LABEL step although the build
  # argument in it changed, which would leave the previous commit's SHA on the image.
  --label "org.opencontainers.image.revision=$sha"
  --label "org.opencontainers.image.source=$source_url")
ca="${PIP_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"
if [[ -n "$ca" && -s "$ca" ]]; then
  args+=(--secret "id=pip_ca,src=$ca")
fi

log "building $ref with $builder from $base"
start=$(date +%s)
case "$builder" in
  # --format docker: the OCI format has no HEALTHCHECK.
  podman) podman build --format docker --layers "${args[@]}" . >&2 ;;
  buildah) buildah bud --format docker --layers "${args[@]}" . >&2 ;;
  docker) DOCKER_BUILDKIT=1 docker build "${args[@]}" . >&2 ;;
esac
log "built $ref in $(($(date +%s) - start)) s"
echo "$ref"
