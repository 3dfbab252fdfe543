#!/usr/bin/env bash
# Build the image of the current commit and push it to a registry reachable without a login:
#   tools/container/publish.sh 127.0.0.1:5002/booking-api-local   -> prints the pushed reference
# The release role calls it on the local inventory (release_build); IMAGE_BUILDER as build.sh.
# REGISTRY_USERNAME / REGISTRY_PASSWORD (e.g. an ECR token): log in first, password on stdin.
set -euo pipefail
# shellcheck source=tools/container/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
repository="${1:?usage: publish.sh <registry host:port>/<repository>}"
ref=$(IMAGE_NAME="$repository" "$REPO/tools/container/build.sh")
registry="${repository%%/*}"
if [[ -n "${REGISTRY_USERNAME:-}" ]]; then
  case "${IMAGE_BUILDER:-podman}" in
    podman) podman login --username "$REGISTRY_USERNAME" --password-stdin "$registry" \
      <<<"$REGISTRY_PASSWORD" >&2 ;;
    buildah) buildah login --username "$REGISTRY_USERNAME" --password-stdin "$registry" \
      <<<"$REGISTRY_PASSWORD" >&2 ;;
    docker) docker login --username "$REGISTRY_USERNAME" --password-stdin "$registry" \
      <<<"$REGISTRY_PASSWORD" >&2 ;;
  esac
fi
case "${IMAGE_BUILDER:-podman}" in
  podman) mkdir -p "$CONTAINERS_ROOT" "$CONTAINERS_RUNROOT"; podman push --tls-verify=false "$ref" >&2 ;;
  buildah) buildah push --tls-verify=false "$ref" >&2 ;;
  docker) docker push "$ref" >&2 ;;
esac
echo "$ref"
