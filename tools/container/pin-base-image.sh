#!/usr/bin/env bash
# Re-pin the Dockerfile's base image (ARG BASE_IMAGE=<image>:<tag>@sha256:<digest>) to the digest
# its tag points to now: `make pin-base-image`. The digest is that of the tag's manifest list
# (every platform), which is what `docker pull <image>:<tag>` resolves and Renovate proposes.
# Needs the registry (Docker Hub): where it is unreachable this fails and changes nothing.
set -euo pipefail
# shellcheck source=tools/container/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"

current=$(dockerfile_base)
[[ -n "$current" ]] || { log "no 'ARG BASE_IMAGE=' line in the Dockerfile"; exit 1; }
name_tag="${current%@*}"
manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT
if ! timeout 60 skopeo inspect --raw "docker://docker.io/library/$name_tag" >"$manifest"; then
  log "cannot read docker.io/library/$name_tag (no route to Docker Hub?): the pin is unchanged"
  exit 1
fi
digest="sha256:$(sha256sum "$manifest" | cut -d' ' -f1)"
pinned="$name_tag@$digest"
if [[ "$pinned" == "$current" ]]; then
  log "the base is pinned to the current digest already: $pinned"
  exit 0
fi
sed -i "s|^ARG BASE_IMAGE=.*|ARG BASE_IMAGE=$pinned|" Dockerfile
log "ARG BASE_IMAGE=$current -> $pinned (rebuild: make image; test: make test-container)"
