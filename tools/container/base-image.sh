#!/usr/bin/env bash
# Print the base image reference the Dockerfile should build FROM, making it available first.
#
#   BASE_IMAGE given (e.g. python:3.11-slim where Docker Hub is reachable): printed as is, the
#   build pulls it. Otherwise, in order:
#   1. python:3.11-slim already in the project's image store, or localhost/debian:bookworm-slim;
#   2. the saved archive .cache/container/debian-bookworm-slim.tar: `podman load` (~3 s);
#   3. python:3.11-slim pulled (fails at once where Docker Hub is unreachable);
#   4. a Debian bookworm base made here: debootstrap --variant=minbase from the mirror in
#      /etc/apt/sources.list.d/debian.sources (read now, never hard-coded), trimmed the way the
#      -slim images are (no docs, man pages, locales, apt lists), imported as
#      localhost/debian:bookworm-slim and saved to the archive for next time (~60 s).
# Needs root for debootstrap (CI runs as root).
set -euo pipefail
# shellcheck source=tools/container/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# The official base, pinned by digest: the Dockerfile's own default (make pin-base-image).
OFFICIAL="docker.io/library/$(dockerfile_base)"

if [[ -n "${BASE_IMAGE:-}" && "${BASE_IMAGE}" != "$LOCAL_BASE" ]]; then
  echo "$BASE_IMAGE"
  exit 0
fi
mkdir -p "$CONTAINERS_ROOT" "$CONTAINERS_RUNROOT"
if [[ -z "${BASE_IMAGE:-}" ]] && podman image exists "$OFFICIAL"; then
  echo "$OFFICIAL"
  exit 0
fi
if podman image exists "$LOCAL_BASE"; then
  echo "$LOCAL_BASE"
  exit 0
fi
if [[ -s "$BASE_ARCHIVE" ]]; then
  log "loading $LOCAL_BASE from ${BASE_ARCHIVE#"$REPO"/}"
  podman load --quiet --input "$BASE_ARCHIVE" >/dev/null
  echo "$LOCAL_BASE"
  exit 0
fi
if [[ -z "${BASE_IMAGE:-}" ]] && timeout 60 podman pull --quiet "$OFFICIAL" >/dev/null 2>&1; then
  echo "$OFFICIAL"
  exit 0
fi

# --- Make the Debian base ------------------------------------------------------------------
command -v debootstrap >/dev/null || { log "debootstrap missing: make container-setup"; exit 1; }
sources=/etc/apt/sources.list.d/debian.sources
mirror=$(debian_mirror bookworm)
[[ -n "$mirror" ]] || { log "no bookworm mirror found in $sources"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/booking-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
log "debootstrap --variant=minbase bookworm from $mirror (about a minute)"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}

# The host's apt sources (main, updates, security), as in the official images.
rm -f "$rootfs/etc/apt/sources.list"
mkdir -p "$rootfs/etc/apt/sources.list.d"
if [[ -f "$sources" ]]; then
  cp "$sources" "$rootfs/etc/apt/sources.list.d/debian.sources"
else
  cp /etc/apt/sources.list "$rootfs/etc/apt/sources.list"
fi
slim_rootfs "$rootfs"
echo 'APT::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"

save_rootfs_image "$rootfs" "$LOCAL_BASE" "$BASE_ARCHIVE" "$start"
