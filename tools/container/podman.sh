#!/usr/bin/env bash
# podman on the project's own image store (.run/containers) with the project's containers.conf:
#   tools/container/podman.sh images
#   tools/container/podman.sh run --rm --network=host localhost/booking-api:latest python -V
# CONTAINERS_ROOT / CONTAINERS_RUNROOT point it at another store (the test's pull check does).
set -euo pipefail
# shellcheck source=tools/container/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mkdir -p "$CONTAINERS_ROOT" "$CONTAINERS_RUNROOT"
podman "$@"
