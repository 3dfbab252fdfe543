#!/usr/bin/env bash
# A real image registry (Debian's docker-registry, distribution v2) on loopback, for pushing and
# pulling the image locally. Config .run/registry.yml, storage .run/registry/, log
# .run/registry.log, PID .run/registry.pid.
#   tools/container/registry.sh up       start it, or reuse the one already running
#   tools/container/registry.sh down     stop it if running (idempotent)
#   tools/container/registry.sh status   exit 0 if it is running
#   tools/container/registry.sh url      print host:port (127.0.0.1:REGISTRY_PORT, default 5002)
# 5000 is the AWS emulator's port and 5101-5111 molecule's. Plain http on loopback: push and
# pull with --tls-verify=false.
set -euo pipefail
# shellcheck source=tools/container/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

addr="127.0.0.1:$REGISTRY_PORT"
pid_file="$RUN_DIR/registry.pid"
config="$RUN_DIR/registry.yml"
log_file="$RUN_DIR/registry.log"

answers() { curl -fsS -o /dev/null --max-time 2 "http://$addr/v2/" 2>/dev/null; }
our_pid() {
  local pid
  [[ -f "$pid_file" ]] || return 1
  pid=$(cat "$pid_file")
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

case "${1:-}" in
  up)
    if our_pid >/dev/null && answers; then
      log "registry already running on $addr (pid $(our_pid))"
      exit 0
    fi
    if answers; then
      # Another checkout's (or the machine's) registry: a registry all the same; reuse it and
      # leave stopping it to whoever started it.
      log "reusing the registry that answers on $addr"
      exit 0
    fi
    command -v docker-registry >/dev/null || { log "docker-registry missing: make container-setup"; exit 1; }
    mkdir -p "$RUN_DIR/registry"
    cat >"$config" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $RUN_DIR/registry
  delete:
    enabled: true
http:
  addr: $addr
YML
    nohup docker-registry serve "$config" >"$log_file" 2>&1 </dev/null &
    echo $! >"$pid_file"
    for _ in $(seq 1 50); do
      if answers; then
        log "registry started on $addr (pid $(cat "$pid_file"))"
        exit 0
      fi
      kill -0 "$(cat "$pid_file")" 2>/dev/null || break
      sleep 0.2
    done
    log "registry did not come up on $addr; last lines of ${log_file#"$REPO"/}:"
    tail -n 20 "$log_file" >&2
    exit 1
    ;;
  down)
    if pid=$(our_pid); then
      kill -TERM "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
      log "registry stopped (pid $pid)"
    fi
    rm -f "$pid_file"
    ;;
  status)
    our_pid >/dev/null && answers
    ;;
  url)
    echo "$addr"
    ;;
  *)
    echo "usage: $0 up|down|status|url" >&2
    exit 2
    ;;
esac
