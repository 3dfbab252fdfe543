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

Backups are real too (issue 19), the way RDS makes them for PostgreSQL: every server archives
its write-ahead log (``archive_mode``), and a base backup is taken as soon as it is up (RDS takes
the first automated backup when it creates an instance). Every ``log_upload_seconds`` (RDS
uploads transaction logs to S3 about every 5 minutes: RDS User Guide, "Restoring a DB instance to
a specified time") the server commits a heartbeat (RDS does the same, in its ``rdsadmin``
database) and switches to a new WAL segment; once that segment is archived, its commit time is
the instance's ``LatestRestorableTime``. So:

* RestoreDBInstanceToPointInTime starts the new instance's server from the source's base backup
  and replays the source's archived WAL up to ``RestoreTime`` (``recovery_target_time``), then
  promotes it: the new instance has exactly the data committed at that time.
* CreateDBSnapshot (and the final snapshot of DeleteDBInstance) takes a base backup, kept after
  the instance is gone as RDS keeps manual snapshots; RestoreDBInstanceFromDBSnapshot starts the
  new server from it. The automated snapshot is the instance's own base backup (it goes with the
  instance, as DeleteDBInstance's default DeleteAutomatedBackups=true does on RDS).
* ModifyDBInstance's NewDBInstanceIdentifier moves the endpoint name: the renamed instance's
  server answers at its new name, and a restored instance renamed to the old one's identifier
  answers at the old name (the way RDS documents replacing an instance by a restored one).

Fidelity limits: the restorable window starts at the first base backup (RDS: the backup retention
period back from now, at most to the instance's creation); one base backup per instance (RDS
takes one a day: replay from it grows with the instance's age, as a restore on RDS grows with the
log since the last daily snapshot); WAL segments of 1 MB (RDS: PostgreSQL's 64 MB).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import local_net  # beside this file (tools/ is on the emulator's path)

RDS_ENV = "BOOKING_EMULATOR_RDS"
# Seconds between two transaction log uploads (the latest restorable time's step). RDS: about
# every 5 minutes. A test may shorten it; the restorable window is enforced whatever it is.
LOG_UPLOAD_ENV = "BOOKING_EMULATOR_RDS_LOG_UPLOAD_SECONDS"
_CLUSTERS: dict[tuple[str, str, str], PostgresCluster] = {}  # (account, region, id) -> cluster
# (account, region, snapshot id) -> the base backup a snapshot is (a directory postgres owns).
_SNAPSHOTS: dict[tuple[str, str, str], Path] = {}
_LOCK = threading.Lock()
_RESTORING = threading.local()  # .source: what the CreateDBInstance being made restores from
_UPLOADER: threading.Thread | None = None
HEARTBEAT_DATABASE = "rdsadmin"


def log_upload_seconds() -> float:
    return float(os.environ.get(LOG_UPLOAD_ENV) or 300)


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


class RestoreSource:
    """What a new instance's server starts from: a base backup, and for a point-in-time restore
    the source's WAL archive and the time to replay up to."""

    def __init__(self, base: Path, archive: Path | None = None,
                 target: datetime | None = None) -> None:
        self.base, self.archive, self.target = base, archive, target


class PostgresCluster:
    """One DB instance's server: its own data directory, address, master user and database,
    its WAL archive and base backup (the instance's automated backups)."""

    def __init__(self, address: str, port: int, master: str, password: str,
                 database: str | None, source: RestoreSource | None = None) -> None:
        self.address, self.port, self.master = address, port, master
        self.endpoint = ""  # the instance's endpoint name (set by created())
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="booking-rds-"))
        self.data, self.sockets = self.root / "data", self.root / "sockets"
        self.archive, self.base = self.root / "archive", self.root / "base"
        self.sockets.mkdir()
        self.archive.mkdir()
        for path in (self.root, self.sockets, self.archive):
            shutil.chown(path, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        self.earliest_restorable: datetime | None = None
        self.latest_restorable: datetime | None = None
        self.last_upload = 0.0  # time.monotonic() of the last log upload
        try:
            if source is None:
                self._initdb(master, password)
            else:
                # The base backup's files, as postgres (they keep their owner and modes).
                _as_postgres("cp", "-a", str(source.base), str(self.data))
                if source.target is not None:
                    self._recover_to(source)
            self._start()
            if source is not None and source.target is not None:
                self._wait_promoted()
            if source is None and database and database != "postgres":
                self.sql(f'CREATE DATABASE "{database}"')
            self._backup()
        except BaseException:
            self.stop()
            raise

    def _initdb(self, master: str, password: str) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(password + "\n")
        shutil.chown(pwfile, "postgres", "postgres")
        try:
            # TCP: SCRAM passwords, as RDS. The socket, in a directory only root and postgres
            # reach, trusts the emulator itself (it changes the password on ModifyDBInstance).
            # 1 MB WAL segments: a log upload switches segments, and each is archived whole.
            _as_postgres(str(self.bindir / "initdb"), "-D", str(self.data), "-U", master,
                         f"--pwfile={pwfile}", "--auth-host=scram-sha-256",
                         "--auth-local=trust", "--encoding=UTF8", "--no-sync",
                         "--wal-segsize=1")
        finally:
            pwfile.unlink()
        # initdb's host lines cover 127.0.0.1 and ::1 only: clients come from the endpoint's own
        # address and from the tasks' subnets. Password (SCRAM) from anywhere, as RDS.
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write("host all all 0.0.0.0/0 scram-sha-256\n")

    def _recover_to(self, source: RestoreSource) -> None:
        """Point-in-time recovery: replay the source's archive up to the target, then promote."""
        assert source.archive is not None
        assert source.target is not None
        auto = self.data / "postgresql.auto.conf"
        kept = [line for line in auto.read_text().splitlines()
                if not line.startswith(("restore_command", "recovery_target"))]
        target = source.target.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
        kept += [f"restore_command = 'cp {source.archive}/%f %p'",
                 f"recovery_target_time = '{target}'",
                 "recovery_target_action = 'promote'"]
        auto.write_text("\n".join(kept) + "\n")  # as root: the file keeps postgres's owner
        _as_postgres("touch", str(self.data / "recovery.signal"))

    def _start(self) -> None:
        archive = f"test ! -f {self.archive}/%f && cp %p {self.archive}/%f"
        _as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "120",
                     "-l", str(self.root / "server.log"), "-o",
                     f"-c listen_addresses={self.address} -c port={self.port} "
                     f"-c unix_socket_directories={self.sockets} -c archive_mode=on "
                     f"-c \"archive_command={archive}\"", "start")

    def _wait_promoted(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.query("SELECT pg_is_in_recovery()", check=False)
            if answer.returncode == 0 and answer.stdout.strip() == "f":
                return
            time.sleep(0.2)
        log = (self.root / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"point-in-time recovery did not finish: {log}")

    def _backup(self) -> None:
        """The instance's first automated backup: a base backup, then the log is archived."""
        _as_postgres(str(self.bindir / "pg_basebackup"), "-h", str(self.sockets), "-p",
                     str(self.port), "-U", self.master, "-D", str(self.base), "-X", "stream",
                     "-c", "fast", "--no-sync")
        self.upload_log()
        self.earliest_restorable = self.latest_restorable

    def query(self, statement: str, database: str = "postgres",
              check: bool = True) -> subprocess.CompletedProcess[str]:
        return _as_postgres(str(self.bindir / "psql"), "-h", str(self.sockets), "-p",
                            str(self.port), "-U", self.master, "-d", database, "-v",
                            "ON_ERROR_STOP=1", "-qAt", "-c", statement, check=check)

    def sql(self, statement: str) -> None:
        self.query(statement)

    def upload_log(self) -> None:
        """RDS's transaction log upload: a heartbeat commit, the segment switched and archived;
        the heartbeat's time (to the second below it) is then the latest restorable time."""
        self.last_upload = time.monotonic()
        if self.query(f"SELECT 1 FROM pg_database WHERE datname = '{HEARTBEAT_DATABASE}'"
                      ).stdout.strip() != "1":
            self.sql(f'CREATE DATABASE "{HEARTBEAT_DATABASE}"')
            self.query("CREATE TABLE heartbeat (id int PRIMARY KEY, at timestamptz NOT NULL)",
                       database=HEARTBEAT_DATABASE)
        at = self.query("INSERT INTO heartbeat VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET "
                        "at = excluded.at RETURNING extract(epoch FROM at)",
                        database=HEARTBEAT_DATABASE).stdout.strip()
        segment = self.query("SELECT pg_walfile_name(pg_switch_wal())").stdout.strip()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            archived = self.query("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver"
                                  ).stdout.strip()
            if archived >= segment:  # names order by timeline, then position
                break
            time.sleep(0.1)
        else:
            return  # not archived yet: the latest restorable time stays where it was
        self.latest_restorable = datetime.fromtimestamp(int(float(at)), tz=UTC)

    def snapshot(self, into: Path) -> None:
        """A manual snapshot: a base backup of its own (self-contained: the log it needs is in)."""
        _as_postgres(str(self.bindir / "pg_basebackup"), "-h", str(self.sockets), "-p",
                     str(self.port), "-U", self.master, "-D", str(into), "-X", "stream",
                     "-c", "fast", "--no-sync")

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
    """CreateDBInstance made `instance` (or a restore did): start its server (postgres only)."""
    source: RestoreSource | None = getattr(_RESTORING, "source", None)
    _RESTORING.source = None
    if instance.engine != "postgres":
        return
    address = local_net.endpoint_address()
    try:
        cluster = PostgresCluster(address, int(instance.port), instance.master_username,
                                  instance._master_user_password, instance.db_name, source)
    except BaseException:
        local_net.release(address)
        raise
    cluster.endpoint = instance.address
    with _LOCK:
        _CLUSTERS[_key(backend, instance.db_instance_identifier)] = cluster
        local_net.HOSTS[instance.address] = address
    _start_uploader()


def cluster_of(backend: Any, identifier: str) -> PostgresCluster | None:
    return _CLUSTERS.get(_key(backend, identifier))


def modified(backend: Any, instance: Any, db_kwargs: dict[str, Any], old_id: str) -> None:
    """A new master password is set on the server; a new identifier moves the endpoint name."""
    new_id = instance.db_instance_identifier
    with _LOCK:
        cluster = _CLUSTERS.pop(_key(backend, old_id), None)
        if cluster is not None:
            _CLUSTERS[_key(backend, new_id)] = cluster
            if new_id != old_id:
                if local_net.HOSTS.get(cluster.endpoint) == cluster.address:
                    local_net.HOSTS.pop(cluster.endpoint)
                cluster.endpoint = instance.address
                local_net.HOSTS[cluster.endpoint] = cluster.address
    if cluster is not None and db_kwargs.get("master_user_password"):
        cluster.set_password(db_kwargs["master_user_password"])


def restoring_from_snapshot(backend: Any, snapshot_id: str) -> None:
    """The next instance created on this thread starts from the snapshot's base backup."""
    base = _SNAPSHOTS.get(_key(backend, snapshot_id))
    record = backend.database_snapshots.get(snapshot_id)
    if base is None and record is not None and record.snapshot_type == "automated":
        # An automated snapshot: the instance's own base backup.
        cluster = cluster_of(backend, record.database.db_instance_identifier)
        base = cluster.base if cluster is not None else None
    _RESTORING.source = RestoreSource(base) if base is not None else None


def restoring_to_time(backend: Any, source_id: str, target: datetime) -> None:
    """The next instance created on this thread replays `source_id`'s log up to `target`."""
    cluster = cluster_of(backend, source_id)
    _RESTORING.source = (RestoreSource(cluster.base, cluster.archive, target)
                         if cluster is not None else None)


def snapshot_taken(backend: Any, instance_id: str, snapshot: Any) -> None:
    """A manual snapshot (CreateDBSnapshot, a final snapshot): a base backup, kept on its own."""
    cluster = cluster_of(backend, instance_id)
    if cluster is None or snapshot.snapshot_type != "manual":
        return
    identifier = snapshot.db_snapshot_identifier
    into = _snapshot_root() / f"{backend.account_id}-{backend.region_name}-{identifier}"
    cluster.snapshot(into)
    _SNAPSHOTS[_key(backend, identifier)] = into


def snapshot_deleted(backend: Any, snapshot_id: str) -> None:
    path = _SNAPSHOTS.pop(_key(backend, snapshot_id), None)
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


_SNAPSHOT_ROOT: Path | None = None


def _snapshot_root() -> Path:
    global _SNAPSHOT_ROOT
    with _LOCK:
        if _SNAPSHOT_ROOT is None or not _SNAPSHOT_ROOT.exists():
            _SNAPSHOT_ROOT = Path(tempfile.mkdtemp(prefix="booking-rds-snapshots-"))
            shutil.chown(_SNAPSHOT_ROOT, "postgres", "postgres")
            os.chmod(_SNAPSHOT_ROOT, 0o700)
        return _SNAPSHOT_ROOT


def _start_uploader() -> None:
    """One thread per emulator uploads every server's transaction log on RDS's schedule."""
    global _UPLOADER
    with _LOCK:
        if _UPLOADER is not None and _UPLOADER.is_alive():
            return
        _UPLOADER = threading.Thread(target=_upload_loop, name="rds-log-upload", daemon=True)
        _UPLOADER.start()


def _upload_loop() -> None:
    while True:
        time.sleep(min(1.0, log_upload_seconds() / 5))
        for cluster in list(_CLUSTERS.values()):
            if time.monotonic() - cluster.last_upload >= log_upload_seconds():
                with contextlib.suppress(subprocess.SubprocessError, OSError):
                    cluster.upload_log()


def _stop(key: tuple[str, str, str]) -> None:
    with _LOCK:
        cluster = _CLUSTERS.pop(key, None)
        if cluster is not None and local_net.HOSTS.get(cluster.endpoint) == cluster.address:
            local_net.HOSTS.pop(cluster.endpoint)
    if cluster is not None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.stop()
        local_net.release(cluster.address)


def deleted(backend: Any, instance: Any) -> None:
    _stop(_key(backend, instance.db_instance_identifier))


def stop_all() -> None:
    """The emulator stops (`make down`): so do the servers, and their data and snapshots go."""
    for key in list(_CLUSTERS):
        _stop(key)
    for key in list(_SNAPSHOTS):
        shutil.rmtree(_SNAPSHOTS.pop(key), ignore_errors=True)
    if _SNAPSHOT_ROOT is not None:
        shutil.rmtree(_SNAPSHOT_ROOT, ignore_errors=True)


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
        modified(self, instance, db_kwargs, db_instance_identifier)
        return instance

    def delete_db_instance(self: Any, db_instance_identifier: str, *args: Any,
                           **kwargs: Any) -> Any:
        instance = delete(self, db_instance_identifier, *args, **kwargs)
        deleted(self, instance)
        return instance

    snapshot, delete_snapshot = RDSBackend.create_db_snapshot, RDSBackend.delete_db_snapshot
    from_snapshot, to_time = (RDSBackend.restore_db_instance_from_db_snapshot,
                              RDSBackend.restore_db_instance_to_point_in_time)

    def create_db_snapshot(self: Any, db_instance_identifier: str, db_snapshot_identifier: str,
                           *args: Any, **kwargs: Any) -> Any:
        """Also the final snapshot of DeleteDBInstance (taken before the server stops)."""
        made = snapshot(self, db_instance_identifier, db_snapshot_identifier, *args, **kwargs)
        if enabled():
            snapshot_taken(self, db_instance_identifier, made)
        return made

    def delete_db_snapshot(self: Any, db_snapshot_identifier: str) -> Any:
        gone = delete_snapshot(self, db_snapshot_identifier)
        snapshot_deleted(self, db_snapshot_identifier)
        return gone

    def restore_db_instance_from_db_snapshot(self: Any, from_snapshot_id: str,
                                             overrides: dict[str, Any]) -> Any:
        if enabled():
            restoring_from_snapshot(self, from_snapshot_id.rsplit(":snapshot:", 1)[-1])
        try:
            return from_snapshot(self, from_snapshot_id, overrides)
        finally:
            _RESTORING.source = None

    def restore_db_instance_to_point_in_time(self: Any, source_db_identifier: str,
                                             target_db_identifier: str,
                                             overrides: dict[str, Any]) -> Any:
        if enabled():
            # rds_backups (applied first) has checked the time against the restorable window.
            target = overrides.get("restore_time")
            if target is None or overrides.get("use_latest_restorable_time"):
                source = self.describe_db_instances(source_db_identifier)[0]
                target = source.latest_restorable_time
            if target.tzinfo is None:
                target = target.replace(tzinfo=UTC)
            restoring_to_time(self, source_db_identifier, target)
        try:
            return to_time(self, source_db_identifier, target_db_identifier, overrides)
        finally:
            _RESTORING.source = None

    reset = RDSBackend.reset

    def reset_backend(self: Any) -> None:
        """/moto-api/reset forgets the instances: their servers go too."""
        for key in [k for k in _CLUSTERS if k[:2] == (self.account_id, self.region_name)]:
            _stop(key)
        for key in [k for k in _SNAPSHOTS if k[:2] == (self.account_id, self.region_name)]:
            shutil.rmtree(_SNAPSHOTS.pop(key), ignore_errors=True)
        reset(self)

    RDSBackend.create_db_instance = create_db_instance
    RDSBackend.modify_db_instance = modify_db_instance
    RDSBackend.delete_db_instance = delete_db_instance
    RDSBackend.create_db_snapshot = create_db_snapshot
    RDSBackend.delete_db_snapshot = delete_db_snapshot
    RDSBackend.restore_db_instance_from_db_snapshot = restore_db_instance_from_db_snapshot
    RDSBackend.restore_db_instance_to_point_in_time = restore_db_instance_to_point_in_time
    RDSBackend.reset = reset_backend
