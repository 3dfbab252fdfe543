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
mirror=$(awk '/^URIs:/ {uri=$2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == "bookworm") {print uri; exit}}' \
  "$sources" 2>/dev/null || true)
if [[ -z "$mirror" ]]; then
  mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
[[ -n "$mirror" ]] || { log "no Debian mirror found in $sources"; exit 1; }
security=$(awk '/^URIs:/ {uri=$2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == "bookworm-security") {print uri; exit}}' \
  "$sources" 2>/dev/null || true)

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
# What the -slim images configure (as base-image.sh): no docs, man pages, locales, apt caches.
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
echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/* \
  "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
  "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
  "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
: >"$rootfs/etc/machine-id" 2>/dev/null || true
rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"

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

tar --numeric-owner -C "$rootfs" -c . \
  | podman import --quiet --change 'CMD ["bash"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      - "$EE_LOCAL_BASE" >/dev/null
mkdir -p "$(dirname "$EE_BASE_ARCHIVE")"
podman save --quiet --output "$EE_BASE_ARCHIVE.tmp" "$EE_LOCAL_BASE"
mv "$EE_BASE_ARCHIVE.tmp" "$EE_BASE_ARCHIVE"
size=$(podman image inspect --format '{{.Size}}' "$EE_LOCAL_BASE")
log "made $EE_LOCAL_BASE ($((size / 1000000)) MB) in $(($(date +%s) - start)) s," \
  "saved to ${EE_BASE_ARCHIVE#"$REPO"/}"
echo "$EE_LOCAL_BASE"
