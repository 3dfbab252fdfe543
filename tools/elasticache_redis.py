"""ElastiCache replication groups as real Redis servers: a part of the real data plane (issue 17).

With ``BOOKING_EMULATOR_ELASTICACHE=redis`` in the emulator's environment, CreateReplicationGroup
of engine ``redis`` or ``valkey`` starts a Redis server of its own for the group (the machine's
/usr/bin/redis-server, a child of the emulator that dies with it), in a temporary directory of
its own, without persistence (the cache, rate limits and broker queue are transient), listening
on the group's port (default 6379) at an endpoint address of its own (tools/local_net.py:
198.18.x.y on the loopback interface, reachable from the task containers), so it never clashes
with the machine's Redis on 127.0.0.1:6379. One server stands for every node of the group.

* ``TransitEncryptionEnabled``: TLS only, as ElastiCache (no plain port), with a certificate of
  the local CA (tools/local_ca.py) for the group's endpoint names and address; no client
  certificate asked for. Without it: plain TCP.
* ``AuthToken``: the default user needs it (Redis ``AUTH <token>``; a wrong one is refused with
  ``WRONGPASS``). Without a token the default user needs none.
* ModifyReplicationGroup with ``AuthToken`` and ``AuthTokenUpdateStrategy``, as the ElastiCache
  User Guide documents it ("Authenticating with the Valkey and Redis OSS AUTH command",
  https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html#auth-modifyng-token, and the
  API reference of ModifyReplicationGroup): ``ROTATE`` (the default when only ``AuthToken`` is
  given) adds the new token and keeps the previous one (the two most recent are accepted);
  ``SET`` leaves only the new token; ``DELETE`` (no ``AuthToken``; only when moving to RBAC, with
  ``UserGroupIdsToAdd``) removes the tokens. A token change needs in-transit encryption, and
  ``ROTATE``/``SET`` need ``AuthToken``: otherwise InvalidParameterCombination, as on AWS, and
  nothing is modified. Two simplifications: ROTATE on a group without a token asks for the new
  token at once (AWS accepts both no token and the new one for a while; Redis cannot: its
  ``AUTH <password>`` fails while the default user needs none), and after DELETE the default
  user needs no password (RBAC's users are not emulated).
* The commands ElastiCache restricts are refused to the default user (``NOPERM``): CONFIG,
  SHUTDOWN, SAVE, REPLICAOF, ACL SETUSER and the rest of the list in "Restricted Valkey and Redis
  OSS commands" (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/RestrictedCommands.html).
  The emulator changes the tokens through the server's Unix socket (in a directory only root
  reaches) as an admin user of its own, whose password is random and, like the tokens, held in
  the emulator's memory only.

The group's endpoint names (as moto names them: ``master.<id>.<random>.use1.cache.amazonaws.com``
for the primary, ``replica.`` for the reader, ``<member id>.`` for each member cluster and
``clustercfg.`` for a cluster-mode configuration endpoint) map to the address in
``local_net.HOSTS``, which tools/ecs_podman.py gives every task container as a host entry, so the
app connects by the endpoint name as on AWS. DeleteReplicationGroup, the backend's reset and the
emulator's end (``stop_all``) stop the server, remove its directory and give the address back.

Secrets never reach a command line or a log: the server reads its configuration from a file of
mode 0600 in its directory, and that file holds the tokens' SHA-256 hashes only (Redis ACL
``#<hash>`` passwords); so do the ACL commands that change them. The server is the machine's
Redis (7.0) whatever ``Engine`` and ``EngineVersion`` ask; in cluster mode it is one plain
(non-cluster) server behind the configuration endpoint.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import local_ca  # beside this file (tools/ is on the emulator's path)
import local_net

ELASTICACHE_ENV = "BOOKING_EMULATOR_ELASTICACHE"
REDIS_SERVER = Path("/usr/bin/redis-server")
ENGINES = ("redis", "valkey")
ADMIN_USER = "booking-emulator"
# ElastiCache's restricted commands (see the docstring): the default user may not run them.
RESTRICTED_COMMANDS = (
    "acl|setuser", "acl|load", "acl|save", "acl|deluser", "bgrewriteaof", "bgsave",
    "cluster|addslots", "cluster|addslotsrange", "cluster|bumpepoch", "cluster|delslots",
    "cluster|delslotsrange", "cluster|failover", "cluster|flushslots", "cluster|forget",
    "cluster|links", "cluster|meet", "cluster|setslot", "config", "debug", "migrate", "psync",
    "replicaof", "save", "slaveof", "shutdown", "sync")
_START_SECONDS = 15.0
_SERVERS: dict[tuple[str, str, str], RedisServer] = {}  # (account, region, group id) -> server
_LOCK = threading.Lock()


def enabled() -> bool:
    return os.environ.get(ELASTICACHE_ENV, "") == "redis"


# --- Children that die with the emulator --------------------------------------------------------
# A server is the emulator's child, with PR_SET_PDEATHSIG: the kernel sends it SIGTERM when its
# parent ends, even on SIGKILL. That signal follows the *thread* that forked it, so every server
# is forked by one thread that lives as long as the process (not by a request's thread, which
# ends with the request).
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)
_SPAWN_REQUESTS: queue.SimpleQueue[tuple[list[str], int, queue.SimpleQueue[Any]]] = \
    queue.SimpleQueue()
_spawner: threading.Thread | None = None


def _die_with_parent() -> None:  # runs in the child, between fork and exec
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn_forever() -> None:
    while True:
        argv, log, answer = _SPAWN_REQUESTS.get()
        try:
            answer.put(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                        preexec_fn=_die_with_parent))
        except BaseException as error:  # handed to the caller's thread
            answer.put(error)


def _spawn(argv: list[str], log: int) -> subprocess.Popen[bytes]:
    global _spawner
    with _LOCK:
        if _spawner is None:
            _spawner = threading.Thread(target=_spawn_forever, name="elasticache-redis-spawner",
                                        daemon=True)
            _spawner.start()
    answer: queue.SimpleQueue[Any] = queue.SimpleQueue()
    _SPAWN_REQUESTS.put((argv, log, answer))
    started = answer.get(timeout=30)
    if isinstance(started, BaseException):
        raise started
    return started


# --- A minimal RESP client (the emulator's own channel, over the Unix socket) ------------------

def _encode(*args: str) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_reply(stream: Any) -> Any:
    line = stream.readline()
    if not line:
        raise ConnectionError("the Redis server closed the connection")
    kind, body = line[:1], line[1:].rstrip(b"\r\n")
    if kind == b"+":
        return body.decode()
    if kind == b"-":
        raise RedisError(body.decode())
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        return None if size < 0 else stream.read(size + 2)[:-2].decode()
    if kind == b"*":
        size = int(body)
        return None if size < 0 else [_read_reply(stream) for _ in range(size)]
    raise RedisError(f"unexpected reply {line!r}")


class RedisError(RuntimeError):
    """The server answered a command with an error."""


def _hashed(token: str) -> str:
    """A Redis ACL password by its SHA-256 hash: the token itself is never written or sent."""
    return "#" + hashlib.sha256(token.encode()).hexdigest()


def _password_rules(tokens: list[str]) -> list[str]:
    return ["resetpass", *(_hashed(t) for t in tokens)] if tokens else ["resetpass", "nopass"]


class RedisServer:
    """One replication group's server: its own directory, address, port and tokens."""

    def __init__(self, address: str, port: int, names: list[str], tokens: list[str],
                 tls: bool) -> None:
        if not REDIS_SERVER.exists():
            raise RuntimeError(f"{ELASTICACHE_ENV}=redis needs {REDIS_SERVER} (Redis 7); "
                               "not found")
        self.address, self.port, self.names, self.tls = address, port, names, tls
        self.tokens = list(tokens)
        self._admin = secrets.token_hex(32)
        self.process: subprocess.Popen[bytes] | None = None
        self.root = Path(tempfile.mkdtemp(prefix="booking-redis-"))
        os.chmod(self.root, 0o700)
        self.socket = self.root / "redis.sock"
        self.log = self.root / "server.log"
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        listen = [f"bind {self.address}"]
        if self.tls:
            cert, key = local_ca.issue([*self.names, self.address])
            listen += ["port 0", f"tls-port {self.port}", f'tls-cert-file "{cert}"',
                       f'tls-key-file "{key}"', "tls-auth-clients no"]
        else:
            listen.append(f"port {self.port}")
        restricted = " ".join(f"-{command}" for command in RESTRICTED_COMMANDS)
        config = [
            *listen,
            "protected-mode no",
            f'dir "{self.root}"',
            f'unixsocket "{self.socket}"',
            "unixsocketperm 700",
            'save ""',
            "appendonly no",
            "daemonize no",
            f'logfile "{self.log}"',
            f"user default on {' '.join(_password_rules(self.tokens))} ~* &* +@all {restricted}",
            f"user {ADMIN_USER} on {_hashed(self._admin)} ~* &* +@all",
        ]
        conf = self.root / "redis.conf"
        handle = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as file:
            file.write("\n".join(config) + "\n")
        # Before the server opens its log file (and after, should it fail to): its own output.
        output = os.open(self.root / "output.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self.process = _spawn([str(REDIS_SERVER), str(conf)], output)
        finally:
            os.close(output)
        self._wait_ready(self.process)

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited ({process.returncode}): "
                                   f"{self._log_tail()}")
            with contextlib.suppress(OSError, ConnectionError):
                if self.command("PING") == "PONG":
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer in {_START_SECONDS:.0f} s: "
                           f"{self._log_tail()}")

    def _log_tail(self) -> str:
        lines: list[str] = []
        for path in (self.root / "output.log", self.log):
            with contextlib.suppress(OSError):
                lines += path.read_text(errors="replace").splitlines()[-5:]
        return " | ".join(line.strip() for line in lines if line.strip())

    def command(self, *args: str) -> Any:
        """Run one command as the emulator's admin user, over the Unix socket."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.socket))
            sock.sendall(_encode("AUTH", ADMIN_USER, self._admin) + _encode(*args))
            with sock.makefile("rb") as stream:
                _read_reply(stream)
                return _read_reply(stream)

    def set_tokens(self, tokens: list[str]) -> None:
        self.command("ACL", "SETUSER", "default", *_password_rules(tokens))
        self.tokens = list(tokens)

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()  # SIGTERM: a clean shutdown (nothing to save)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def _key(backend: Any, identifier: str) -> tuple[str, str, str]:
    return (backend.account_id, backend.region_name, identifier)


def endpoint_names(group: Any) -> list[str]:
    """The group's endpoint names, as moto reports them: primary, reader, members, config."""
    names: list[str] = []
    for node_group in group.node_groups:
        names += [node_group.get("primary_endpoint_address"),
                  node_group.get("reader_endpoint_address")]
        names += [(member.get("read_endpoint") or {}).get("address")
                  for member in node_group.get("node_group_members", [])]
    names.append((getattr(group, "configuration_endpoint", None) or {}).get("address"))
    return list(dict.fromkeys(name for name in names if name))


def created(backend: Any, group: Any, auth_token: str | None) -> None:
    """CreateReplicationGroup made `group`: start its server (redis and valkey engines)."""
    if (group.engine or "redis") not in ENGINES:
        return
    names = endpoint_names(group)
    address = local_net.endpoint_address()
    try:
        server = RedisServer(address, int(group.port), names, [auth_token] if auth_token else [],
                             bool(group.transit_encryption_enabled))
    except BaseException:
        local_net.release(address)
        raise
    with _LOCK:
        _SERVERS[_key(backend, group.replication_group_id)] = server
        for name in names:
            local_net.HOSTS[name] = address


def token_change(backend: Any, group_id: str, auth_token: str | None, strategy: str | None,
                 user_groups_to_add: list[str] | None) -> list[str] | None:
    """The tokens the group's server accepts after ModifyReplicationGroup (None: no change).

    Raises what AWS answers to a change it refuses; checked before anything is modified.
    """
    from moto.elasticache.exceptions import (
        InvalidParameterCombinationException,
        InvalidParameterValueException,
    )

    server = _SERVERS.get(_key(backend, group_id))
    if server is None or (auth_token is None and strategy is None):
        return None
    strategy = (strategy or "ROTATE").upper()
    if strategy not in ("ROTATE", "SET", "DELETE"):
        raise InvalidParameterValueException(
            f"Invalid AuthTokenUpdateStrategy {strategy}: expected SET, ROTATE or DELETE.")
    if not server.tls:
        raise InvalidParameterCombinationException(
            "The AUTH token can be modified only on replication groups with "
            "TransitEncryptionEnabled.")
    if strategy == "DELETE":
        if auth_token:
            raise InvalidParameterCombinationException(
                "AuthToken must be omitted with AuthTokenUpdateStrategy DELETE.")
        if not user_groups_to_add:
            raise InvalidParameterCombinationException(
                "AuthTokenUpdateStrategy DELETE is allowed only when moving to RBAC "
                "(UserGroupIdsToAdd).")
        return []
    if not auth_token:
        raise InvalidParameterCombinationException(
            f"AuthTokenUpdateStrategy {strategy} needs an AuthToken.")
    if strategy == "SET":
        return [auth_token]
    return list(dict.fromkeys([*server.tokens[-1:], auth_token]))  # the two most recent


def modified(backend: Any, group_id: str, tokens: list[str] | None) -> None:
    server = _SERVERS.get(_key(backend, group_id))
    if server is not None and tokens is not None:
        server.set_tokens(tokens)


def _stop(key: tuple[str, str, str]) -> None:
    with _LOCK:
        server = _SERVERS.pop(key, None)
        if server is not None:
            for name in server.names:
                local_net.HOSTS.pop(name, None)
    if server is not None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            server.stop()
        local_net.release(server.address)


def deleted(backend: Any, group_id: str) -> None:
    _stop(_key(backend, group_id))


def stop_all() -> None:
    """The emulator stops (`make down`): so do the servers, and their data goes."""
    for key in list(_SERVERS):
        _stop(key)


def apply() -> None:
    """Patch moto's ElastiCache backend (once per process); each create checks enabled()."""
    from moto.elasticache import models, responses

    backend_cls, response_cls = models.ElastiCacheBackend, responses.ElastiCacheResponse
    create, delete, reset = (backend_cls.create_replication_group,
                             backend_cls.delete_replication_group, backend_cls.reset)
    modify = response_cls.modify_replication_group

    def create_replication_group(self: Any, **kwargs: Any) -> Any:
        group = create(self, **kwargs)
        if enabled():
            try:
                created(self, group, kwargs.get("auth_token"))
            except BaseException:  # no server, no group: the call fails and creates nothing
                self.replication_groups.pop(group.replication_group_id, None)
                for cluster_id in group.member_clusters:
                    self.cache_clusters.pop(cluster_id, None)
                raise
        return group

    def modify_replication_group(self: Any) -> Any:
        group_id = self._get_param("ReplicationGroupId")
        tokens = token_change(self.elasticache_backend, group_id, self._get_param("AuthToken"),
                              self._get_param("AuthTokenUpdateStrategy"),
                              self._get_param("UserGroupIdsToAdd"))
        result = modify(self)
        modified(self.elasticache_backend, group_id, tokens)
        return result

    def delete_replication_group(self: Any, replication_group_id: str, *args: Any,
                                 **kwargs: Any) -> Any:
        group = delete(self, replication_group_id, *args, **kwargs)
        deleted(self, replication_group_id)
        return group

    def reset_backend(self: Any) -> None:
        """/moto-api/reset forgets the groups: their servers go too."""
        for key in [k for k in _SERVERS if k[:2] == (self.account_id, self.region_name)]:
            _stop(key)
        reset(self)

    # The emulator's end stops them too (Emulator.stop calls stop_all; this covers a process
    # that ends without it). A SIGKILL leaves only the directory and the address behind: the
    # servers get SIGTERM from the kernel (PR_SET_PDEATHSIG, above).
    atexit.register(stop_all)
    backend_cls.create_replication_group = create_replication_group
    backend_cls.delete_replication_group = delete_replication_group
    backend_cls.reset = reset_backend
    response_cls.modify_replication_group = modify_replication_group
