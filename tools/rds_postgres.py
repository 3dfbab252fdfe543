"""RDS PostgreSQL instances as real PostgreSQL servers: a part of the real data plane (issue 17).

With ``BOOKING_EMULATOR_RDS=postgres`` in the emulator's environment, CreateDBInstance of engine
``postgres`` starts a PostgreSQL cluster of its own for the instance (the machine's PostgreSQL
binaries, run as the ``postgres`` user): its master user with the master password the call gave
(password authentication, SCRAM, as RDS: a wrong password is refused), the ``DBName`` database if
one was given, listening on the instance's port at an endpoint address of its own
(tools/local_net.py: 198.18.x.y on the loopback interface, reachable from the task containers), so
it never clashes with the machine's PostgreSQL on 127.0.0.1:5432. The instance's endpoint name
(``<id>.aaaaaaaaaa.<region>.rds.amazonaws.com``, as moto names it) maps to that address in
``local_net.HOSTS``, which tools/ecs_podman.py gives every task container as a host entry, so the
app connects by the endpoint name as on AWS. ModifyDBInstance with a new master password changes
it; DeleteDBInstance stops and removes the cluster; so does the emulator's end.

The server is the machine's PostgreSQL major version whatever ``EngineVersion`` asks (15 here);
the emulator's RDS API still answers with the version asked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import local_net  # beside this file (tools/ is on the emulator's path)

RDS_ENV = "BOOKING_EMULATOR_RDS"
_CLUSTERS: dict[tuple[str, str, str], PostgresCluster] = {}  # (account, region, id) -> cluster
_LOCK = threading.Lock()


def enabled() -> bool:
    return os.environ.get(RDS_ENV, "") == "postgres"


def _bindir() -> Path:
    """The newest PostgreSQL server binaries on the machine."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda path: int(path.parent.parent.name))
    if not found:
        raise RuntimeError(f"{RDS_ENV}=postgres needs PostgreSQL's server binaries "
                           "(/usr/lib/postgresql/<version>/bin); none found")
    return found[-1].parent


def _as_postgres(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The server refuses to run as root: its commands run as the `postgres` user."""
    command = list(args) if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=check)


class PostgresCluster:
    """One DB instance's server: its own data directory, address, master user and database."""

    def __init__(self, address: str, port: int, master: str, password: str,
                 database: str | None) -> None:
        self.address, self.port, self.master = address, port, master
        self.endpoint = ""  # the instance's endpoint name (set by created())
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="booking-rds-"))
        self.data, self.sockets = self.root / "data", self.root / "sockets"
        self.sockets.mkdir()
        shutil.chown(self.root, "postgres", "postgres")
        shutil.chown(self.sockets, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        pwfile = self.root / "pw"
        pwfile.write_text(password + "\n")
        shutil.chown(pwfile, "postgres", "postgres")
        try:
            # TCP: SCRAM passwords, as RDS. The socket, in a directory only root and postgres
            # reach, trusts the emulator itself (it changes the password on ModifyDBInstance).
            _as_postgres(str(self.bindir / "initdb"), "-D", str(self.data), "-U", master,
                         f"--pwfile={pwfile}", "--auth-host=scram-sha-256",
                         "--auth-local=trust", "--encoding=UTF8", "--no-sync")
        finally:
            pwfile.unlink()
        # initdb's host lines cover 127.0.0.1 and ::1 only: clients come from the endpoint's own
        # address and from the tasks' subnets. Password (SCRAM) from anywhere, as RDS.
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write("host all all 0.0.0.0/0 scram-sha-256\n")
        _as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-l",
                     str(self.root / "server.log"), "-o",
                     f"-c listen_addresses={address} -c port={port} "
                     f"-c unix_socket_directories={self.sockets}", "start")
        if database and database != "postgres":
            self.sql(f'CREATE DATABASE "{database}"')

    def sql(self, statement: str) -> None:
        _as_postgres(str(self.bindir / "psql"), "-h", str(self.sockets), "-p", str(self.port),
                     "-U", self.master, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt",
                     "-c", statement)

    def set_password(self, password: str) -> None:
        escaped = password.replace("'", "''")
        self.sql(f"ALTER ROLE \"{self.master}\" PASSWORD '{escaped}'")

    def stop(self) -> None:
        _as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                     "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _key(backend: Any, identifier: str) -> tuple[str, str, str]:
    return (backend.account_id, backend.region_name, identifier)


def created(backend: Any, instance: Any) -> None:
    """CreateDBInstance made `instance`: start its server (postgres engines only)."""
    if instance.engine != "postgres":
        return
    address = local_net.endpoint_address()
    try:
        cluster = PostgresCluster(address, int(instance.port), instance.master_username,
                                  instance._master_user_password, instance.db_name)
    except BaseException:
        local_net.release(address)
        raise
    cluster.endpoint = instance.address
    with _LOCK:
        _CLUSTERS[_key(backend, instance.db_instance_identifier)] = cluster
        local_net.HOSTS[instance.address] = address


def modified(backend: Any, instance: Any, db_kwargs: dict[str, Any]) -> None:
    cluster = _CLUSTERS.get(_key(backend, instance.db_instance_identifier))
    if cluster is not None and db_kwargs.get("master_user_password"):
        cluster.set_password(db_kwargs["master_user_password"])


def _stop(key: tuple[str, str, str]) -> None:
    with _LOCK:
        cluster = _CLUSTERS.pop(key, None)
        if cluster is not None:
            local_net.HOSTS.pop(cluster.endpoint, None)
    if cluster is not None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.stop()
        local_net.release(cluster.address)


def deleted(backend: Any, instance: Any) -> None:
    _stop(_key(backend, instance.db_instance_identifier))


def stop_all() -> None:
    """The emulator stops (`make down`): so do the servers, and their data goes."""
    for key in list(_CLUSTERS):
        _stop(key)


def apply() -> None:
    """Patch moto's RDS backend (once per process); each call checks enabled()."""
    from moto.rds.models import RDSBackend

    create, modify, delete = (RDSBackend.create_db_instance, RDSBackend.modify_db_instance,
                              RDSBackend.delete_db_instance)

    def create_db_instance(self: Any, db_kwargs: dict[str, Any]) -> Any:
        instance = create(self, db_kwargs)
        if enabled():
            created(self, instance)
        return instance

    def modify_db_instance(self: Any, db_instance_identifier: str,
                           db_kwargs: dict[str, Any]) -> Any:
        instance = modify(self, db_instance_identifier, db_kwargs)
        modified(self, instance, db_kwargs)
        return instance

    def delete_db_instance(self: Any, db_instance_identifier: str, *args: Any,
                           **kwargs: Any) -> Any:
        instance = delete(self, db_instance_identifier, *args, **kwargs)
        deleted(self, instance)
        return instance

    reset = RDSBackend.reset

    def reset_backend(self: Any) -> None:
        """/moto-api/reset forgets the instances: their servers go too."""
        for key in [k for k in _CLUSTERS if k[:2] == (self.account_id, self.region_name)]:
            _stop(key)
        reset(self)

    RDSBackend.create_db_instance = create_db_instance
    RDSBackend.modify_db_instance = modify_db_instance
    RDSBackend.delete_db_instance = delete_db_instance
    RDSBackend.reset = reset_backend
