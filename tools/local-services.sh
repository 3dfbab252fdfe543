#!/usr/bin/env bash
# Make sure the local PostgreSQL 15 and Redis 7 the app's tests use are up (127.0.0.1:5432 and
# :6379). Starts only what is down and records it in .run/, so `down` stops only what `up` started.
#   tools/local-services.sh up|down
set -euo pipefail
run_dir="$(cd "$(dirname "$0")/.." && pwd)/.run"
mkdir -p "$run_dir"

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 50); do "$check" && return 0; sleep 0.2; done
  echo "error: $what did not come up" >&2
  return 1
}

case "${1:-}" in
  up)
    if ! pg_up; then
      command -v pg_ctlcluster >/dev/null || { echo "error: PostgreSQL is not installed" >&2; exit 1; }
      version=$(ls /etc/postgresql | sort -V | tail -n 1)
      pg_ctlcluster --skip-systemctl-redirect "$version" main start
      echo "$version" > "$run_dir/postgresql.started"
      wait_for PostgreSQL pg_up
      echo "PostgreSQL $version started"
    fi
    if ! redis_up; then
      command -v redis-server >/dev/null || { echo "error: Redis is not installed" >&2; exit 1; }
      mkdir -p /var/lib/redis /var/log/redis
      redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
      touch "$run_dir/redis.started"
      wait_for Redis redis_up
      echo "Redis started"
    fi
    ;;
  down)
    if [[ -f "$run_dir/postgresql.started" ]]; then
      pg_ctlcluster --skip-systemctl-redirect "$(cat "$run_dir/postgresql.started")" main stop || true
      rm -f "$run_dir/postgresql.started"
      echo "PostgreSQL stopped"
    fi
    if [[ -f "$run_dir/redis.started" ]]; then
      redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1 || true
      rm -f "$run_dir/redis.started"
      echo "Redis stopped"
    fi
    ;;
  *)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
