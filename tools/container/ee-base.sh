#!/usr/bin/env bash
# Print the local base of the execution environment (localhost/debian:trixie-ee), making it first
# if the project's image store lacks it. Used by tools/container/ee.py where the real base
# (execution-environment.yml's quay.io/centos/centos:stream10) cannot be pulled, as here.
#
#   1. already in the project's image store: printed;
#   2. the saved archive .cache/container/debian-trixie-ee.tar: `podman load` (~3 s);
#   3. made here: debootstrap --variant=minbase trixie (Python 3.13: ansible-core 2.21 needs
#      3.12 or later on the controller, bookworm has 3.11) from the mirror of the host's
#      bookworm sources (read now, never hard-coded), trimmed as base-image.sh trims the app's
#      base, plus the one adapter ansible-builder needs on Debian (below); saved to the archive.
#
# The adapter, /usr/local/bin/dnf-apt: ansible-builder's generated steps and scripts (assemble,
# install-from-bindep) call a dnf-like package manager: `$PKGMGR install -y [options] PKGS` and
# `$PKGMGR clean all`. This base only, never the real one, carries a small translation of those
# two commands to apt-get; tools/container/ee.py points options.package_manager_path at it.
# Needs root for debootstrap (CI runs as root).
set -euo pipefail
# shellcheck source=tools/container/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

EE_LOCAL_BASE="localhost/debian:trixie-ee"
EE_BASE_ARCHIVE="$CACHE_DIR/container/debian-trixie-ee.tar"

mkdir -p "$CONTAINERS_ROOT" "$CONTAINERS_RUNROOT"
if podman image exists "$EE_LOCAL_BASE"; then
  echo "$EE_LOCAL_BASE"
  exit 0
fi
if [[ -s "$EE_BASE_ARCHIVE" ]]; then
  log "loading $EE_LOCAL_BASE from ${EE_BASE_ARCHIVE#"$REPO"/}"
  podman load --quiet --input "$EE_BASE_ARCHIVE" >/dev/null
  echo "$EE_LOCAL_BASE"
  exit 0
fi

command -v debootstrap >/dev/null || { log "debootstrap missing: make container-setup"; exit 1; }
sources=/etc/apt/sources.list.d/debian.sources
# The mirror of the host's bookworm stanza (the same archive serves trixie).
mirror=$(debian_mirror bookworm)
[[ -n "$mirror" ]] || { log "no Debian mirror found in $sources"; exit 1; }
security=$(debian_mirror bookworm-security)

work=$(mktemp -d "${TMPDIR:-/tmp}/booking-ee-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
log "debootstrap --variant=minbase trixie from $mirror (about a minute)"
start=$(date +%s)
# ca-certificates: as in CentOS Stream's image (HTTPS from the EE: git, AWS).
debootstrap --variant=minbase --include=ca-certificates trixie "$rootfs" "$mirror" \
  >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}

rm -f "$rootfs/etc/apt/sources.list"
mkdir -p "$rootfs/etc/apt/sources.list.d"
{
  printf 'Types: deb\nURIs: %s\nSuites: trixie trixie-updates\nComponents: main\n' "$mirror"
  printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
  if [[ -n "$security" ]]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: trixie-security\nComponents: main\n' "$security"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
  fi
} >"$rootfs/etc/apt/sources.list.d/debian.sources"
slim_rootfs "$rootfs"
echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"

# The adapter (see the header). Only what ansible-builder's steps call: install, clean.
cat >"$rootfs/usr/local/bin/dnf-apt" <<'ADAPTER'
#!/bin/sh
# dnf's command line, as ansible-builder calls it, on apt-get (the local EE base only):
#   dnf-apt install [-y] [--nodocs] [--setopt X] [--enablerepo X] PKG...  -> apt-get install
#   dnf-apt clean all                                                      -> apt-get clean
set -eu
command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  install)
    packages=""
    skip_next=false
    for arg in "$@"; do
      if $skip_next; then skip_next=false; continue; fi
      case "$arg" in
        --setopt | --enablerepo | --disablerepo) skip_next=true ;;
        -*) ;;
        *) packages="$packages $arg" ;;
      esac
    done
    [ -n "$packages" ] || exit 0
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086 # a list of package names
    apt-get install -y -qq --no-install-recommends $packages
    ;;
  clean)
    apt-get clean
    rm -rf /var/lib/apt/lists/*
    ;;
  *)
    echo "dnf-apt: '$command' is not one of the commands ansible-builder uses (install, clean)" >&2
    exit 2
    ;;
esac
ADAPTER
chmod 755 "$rootfs/usr/local/bin/dnf-apt"

save_rootfs_image "$rootfs" "$EE_LOCAL_BASE" "$EE_BASE_ARCHIVE" "$start"
