#!/usr/bin/env bash
# Install the OS packages the image build and its test need, only those that are missing:
# podman buildah skopeo debootstrap docker-registry runc (Debian 12). Non-interactive; needs
# root (CI runs as root). `make container-setup` calls this.
set -euo pipefail

# package -> command that proves it is there
declare -A wanted=(
  [podman]=podman [buildah]=buildah [skopeo]=skopeo [debootstrap]=debootstrap
  [docker-registry]=docker-registry [runc]=runc
)
missing=()
for pkg in "${!wanted[@]}"; do
  if ! command -v "${wanted[$pkg]}" >/dev/null 2>&1 \
      && ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "container-setup: missing ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "container-setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# With recommends, as measured (about 25 s): podman's networking and overlay helpers.
apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
echo "container-setup: installed ${missing[*]}" >&2
