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
# The official base the Dockerfile builds FROM by default (ARG BASE_IMAGE: python:3.11-slim pinned
# by digest; make pin-base-image re-pins it).
dockerfile_base() { sed -n 's/^ARG BASE_IMAGE=//p' "$REPO/Dockerfile"; }
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

# The host's Debian mirror for SUITE (the first URIs of a deb822 stanza whose suites include it,
# else a one-line sources.list entry); empty when the host names none. Read at run time, never
# hard-coded.
debian_mirror() {
  local suite=$1 mirror
  mirror=$(awk -v suite="$suite" '/^URIs:/ {uri=$2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == suite) {print uri; exit}}' \
    /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  if [[ -z "$mirror" ]]; then
    mirror=$(awk -v suite="$suite" '$1 == "deb" && $3 == suite {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  fi
  echo "$mirror"
}

# Trim a debootstrapped ROOTFS the way the -slim images are, and configure it so that later
# apt-get installs leave no docs, man pages, locales or package caches either; the host's
# hostname and resolver do not belong in an image.
slim_rootfs() {
  local rootfs=$1
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
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/* \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
    "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
  : >"$rootfs/etc/machine-id" 2>/dev/null || true
  rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
}

# Import ROOTFS as IMAGE, save it to ARCHIVE for next time (podman load, ~3 s), print IMAGE.
# STARTED: when the making began (date +%s), for the log line.
save_rootfs_image() {
  local rootfs=$1 image=$2 archive=$3 started=$4 size
  tar --numeric-owner -C "$rootfs" -c . \
    | podman import --quiet --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "$image" >/dev/null
  mkdir -p "$(dirname "$archive")"
  podman save --quiet --output "$archive.tmp" "$image"
  mv "$archive.tmp" "$archive"
  size=$(podman image inspect --format '{{.Size}}' "$image")
  log "made $image ($((size / 1000000)) MB) in $(($(date +%s) - started)) s," \
    "saved to ${archive#"$REPO"/}"
  echo "$image"
}
