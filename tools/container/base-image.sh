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
OFFICIAL="docker.io/library/$(sed -n 's/^ARG BASE_IMAGE=//p' "$REPO/Dockerfile")"

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
# The first URIs of a stanza whose suites include bookworm (not bookworm-security).
mirror=$(awk '/^URIs:/ {uri=$2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == "bookworm") {print uri; exit}}' \
  "$sources" 2>/dev/null || true)
if [[ -z "$mirror" ]]; then
  mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
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
# What the -slim images configure: later apt-get installs leave no docs, man pages, locales
# or package caches either.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
echo 'APT::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
# Trim what is already there.
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/* \
  "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
  "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
  "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
: >"$rootfs/etc/machine-id" 2>/dev/null || true
# The host's hostname and resolver do not belong in an image.
rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"

tar --numeric-owner -C "$rootfs" -c . \
  | podman import --quiet --change 'CMD ["bash"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      - "$LOCAL_BASE" >/dev/null
mkdir -p "$(dirname "$BASE_ARCHIVE")"
podman save --quiet --output "$BASE_ARCHIVE.tmp" "$LOCAL_BASE"
mv "$BASE_ARCHIVE.tmp" "$BASE_ARCHIVE"
size=$(podman image inspect --format '{{.Size}}' "$LOCAL_BASE")
log "made $LOCAL_BASE ($((size / 1000000)) MB) in $(($(date +%s) - start)) s," \
  "saved to ${BASE_ARCHIVE#"$REPO"/}"
echo "$LOCAL_BASE"
