# Sourced by the tools/container scripts: one place for paths, names and the podman wrapper.
# shellcheck shell=bash
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="$REPO/.run"
CACHE_DIR="$REPO/.cache"
# The project's own containers.conf (runc, cgroupfs, lower ulimits): every podman call uses it.
export CONTAINERS_CONF="$REPO/tools/container/containers.conf"
# The project's own image store, apart from the machine's (override to share one).
CONTAINERS_ROOT="${CONTAINERS_ROOT:-$RUN_DIR/containers/storage}"
# The run root (locks, mounts) must be a short path (podman refuses more than 50 characters):
# /tmp, named after this checkout so two checkouts never share it.
CONTAINERS_RUNROOT="${CONTAINERS_RUNROOT:-/tmp/booking-podman-$(printf %s "$REPO" | md5sum | cut -c1-8)}"
IMAGE_NAME="${IMAGE_NAME:-localhost/booking-api}"
# The local Debian base made by base-image.sh when python:3.11-slim cannot be pulled.
LOCAL_BASE="localhost/debian:bookworm-slim"
BASE_ARCHIVE="$CACHE_DIR/container/debian-bookworm-slim.tar"
# The loopback registry (5000 is the AWS emulator, 5101-5111 molecule).
REGISTRY_PORT="${REGISTRY_PORT:-5002}"

podman() {
  command podman --root "$CONTAINERS_ROOT" --runroot "$CONTAINERS_RUNROOT" \
    --storage-driver overlay "$@"
}
buildah() {
  command buildah --root "$CONTAINERS_ROOT" --runroot "$CONTAINERS_RUNROOT" \
    --storage-driver overlay "$@"
}
log() { echo "container: $*" >&2; }
