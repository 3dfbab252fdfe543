"""The environment contract: every name that more than one role uses, defined once.

group_vars/all/contract.yml calls these filters once for the play (booking_names,
booking_settings); each role's defaults call the same filter on its own inputs, so a role run
alone (molecule, ``--tags``) derives exactly what site.yml hands it. Nothing else in the
repository spells a shared name: a grep for ``-cluster`` or ``database_url`` finds it here.

Filters:
- ``resource_names(prefix)``: the AWS names of one environment (cluster, services, log groups,
  load balancer, database, ...).
- ``redis_members(prefix, count)``: the member cluster IDs of the Redis replication group.
- ``bucket_names(prefix, identity)``: the S3 buckets (static, media, backup, logs), whose names
  end in the account ID (bucket names are global).
- ``app_settings(parameter_path)``: the registry of the app's settings in Parameter Store: which
  role writes each, which environment variable of the task definition reads it, whether it is
  secret.
- ``migration_settings(parameter_path)``: the settings only the data migration's one-off task
  reads (playbooks/migrate-data.yml): the source database's URL. Not in ``app_settings``, so the
  web, worker and migrate task definitions never receive them.
- ``served_names(host)``: Django's ALLOWED_HOSTS and CSRF trusted origins for the served name.
- ``aws_arn(identity, service, region, resource)``: an ARN in the caller's partition and account.
- ``parameter_arn(name, identity, region)``: the ARN of a parameter from its name.
- ``task_secrets(settings, identity, region)``: the ``secrets`` list of a container definition.
- ``parameter_requests(settings, values, writer, ...)``: what ``booking.aws.ssm_parameters``
  takes to write the settings one role owns.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

# name -> (environment variable of the app, the role that writes it, secret, description).
# The app reads each variable in app/booking_api/settings.py (tests/test_contract.py checks it).
_APP_SETTINGS: dict[str, tuple[str, str, bool, str]] = {
    "django_secret_key": ("DJANGO_SECRET_KEY", "secrets", True, "Django SECRET_KEY"),
    "allowed_hosts": ("DJANGO_ALLOWED_HOSTS", "secrets", False, "Django ALLOWED_HOSTS"),
    "database_url": ("DATABASE_URL", "rds", True, "PostgreSQL URL of the app (master user)"),
    "redis_url": ("REDIS_URL", "elasticache", True, "Redis URL of the app (TLS, AUTH token)"),
    "twilio_sid": ("TWILIO_SID", "secrets", True, "Twilio account SID"),
    "twilio_token": ("TWILIO_TOKEN", "secrets", True, "Twilio auth token"),
    "twilio_phone_number": ("TWILIO_PHONE_NUMBER", "secrets", True, "Twilio sender number"),
}

# name -> (environment variable, secret, description): read only by the data migration's task
# (roles/data_migration), kept apart from the app's settings above.
_MIGRATION_SETTINGS: dict[str, tuple[str, bool, str]] = {
    "source_database_url": ("SOURCE_DATABASE_URL", True,
                            "PostgreSQL URL of the database to copy in (data migration)"),
}

# The storage role's buckets: static files, media uploads, backups (and audit deliveries), logs.
BUCKET_PARTS = ("static", "media", "backup", "logs")

# The parts of the app that run as task definitions; web and worker are also services.
_TASK_FAMILIES = ("web", "worker", "migrate")
_SERVICES = ("web", "worker")


def _prefix(prefix: Any) -> str:
    if not isinstance(prefix, str) or not prefix or prefix.endswith("-"):
        raise AnsibleFilterError(
            f"resource names need a name prefix like booking-api-prod; got {prefix!r}")
    return prefix


def resource_names(prefix: str) -> dict[str, Any]:
    """The AWS names of the environment whose resources are named <prefix>-<part>."""
    prefix = _prefix(prefix)
    families = {part: f"{prefix}-{part}" for part in _TASK_FAMILIES}
    # The data migration's one-off task (roles/data_migration): the teardown removes it too.
    families["migrate_data"] = f"{prefix}-migrate-data"
    return {
        "prefix": prefix,
        "repository": prefix,
        "vpc": f"{prefix}-vpc",
        "cluster": f"{prefix}-cluster",
        "task_families": families,
        "services": {part: families[part] for part in _SERVICES},
        "app_log_group": f"/ecs/{prefix}",
        "audit_log_group": f"/audit/{prefix}",
        "task_execution_role": f"{prefix}-task-execution",
        "task_role": f"{prefix}-task",
        "load_balancer": f"{prefix}-alb",
        "target_group": f"{prefix}-web",
        # The second group of the web service: blue/green, canary and linear deployments start
        # the new tasks in whichever of the two takes no production traffic.
        "alternate_target_group": f"{prefix}-web-alt",
        # The role ECS assumes to shift the listener rules' weights during such deployments.
        "ecs_infrastructure_role": f"{prefix}-ecs-infrastructure",
        "web_acl": f"{prefix}-waf",
        "db_instance": f"{prefix}-postgres",
        # playbooks/restore.yml (the rds role's `restore`): the restore is made as
        # <this><UTC yyyymmddHHMMSS> and renamed to db_instance; the instance it replaces is
        # renamed <pre-restore prefix><the same stamp> and kept until restore_drop_old.
        "db_instance_restore_prefix": f"{prefix}-postgres-restore-",
        "db_instance_pre_restore_prefix": f"{prefix}-postgres-pre-restore-",
        # playbooks/dr-drill.yml: the scratch restore, <this><UTC yyyymmddHHMMSS>, deleted by
        # the drill itself.
        "db_instance_drill_prefix": f"{prefix}-postgres-drill-",
        "db_subnet_group": f"{prefix}-database",
        "redis_group": f"{prefix}-redis",
        "trail": f"{prefix}-trail",
        "alarm_topic": f"{prefix}-alarms",
        # The monitoring role's alarms that also guard the web service's rollouts.
        "web_deployment_alarms": [f"{prefix}-web-5xx-rate", f"{prefix}-web-unhealthy-hosts"],
        "security_groups": {part: f"{prefix}-{part}"
                            for part in ("alb", "app", "postgres", "redis")},
    }


def redis_members(prefix: str, count: Any) -> list[str]:
    """ElastiCache names a replication group's members <group>-001, -002, ..."""
    try:
        number = int(count)
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError(f"redis_members: count must be a number, got {count!r}") from error
    group = resource_names(prefix)["redis_group"]
    return [f"{group}-{index:03d}" for index in range(1, number + 1)]


def bucket_name(prefix: str, part: str, account: Any) -> str:
    """<prefix>-<part>-<account>: S3 names are global, the account ID keeps them unique."""
    return f"{prefix}-{part}-{account}"


def bucket_names(prefix: str, identity: dict[str, Any]) -> dict[str, str]:
    """The storage role's buckets by part (static, media, backup, logs)."""
    prefix = _prefix(prefix)
    _partition(identity)  # refuses an identity without an ARN/account, like the ARN filters
    return {part: bucket_name(prefix, part, identity["account"]) for part in BUCKET_PARTS}


def app_settings(parameter_path: str) -> dict[str, dict[str, Any]]:
    """The app's settings in Parameter Store: parameter, env, writer, secret, description."""
    if not isinstance(parameter_path, str) or not parameter_path.startswith("/"):
        raise AnsibleFilterError(
            f"app_settings: the parameter path must look like /<app>/<env>; got {parameter_path!r}")
    path = parameter_path.rstrip("/")
    return {
        name: {"name": name, "parameter": f"{path}/{name}", "env": env, "writer": writer,
               "secret": secret, "description": description}
        for name, (env, writer, secret, description) in _APP_SETTINGS.items()
    }


def migration_settings(parameter_path: str) -> dict[str, dict[str, Any]]:
    """The data migration's settings in Parameter Store, shaped as ``app_settings``' entries
    (writer ``data_migration``), under <path>/migration/."""
    path = app_settings(parameter_path)["database_url"]["parameter"].rsplit("/", 1)[0]
    return {
        name: {"name": name, "parameter": f"{path}/migration/{name}", "env": env,
               "writer": "data_migration", "secret": secret, "description": description}
        for name, (env, secret, description) in _MIGRATION_SETTINGS.items()
    }


def served_names(host: str, extra_hosts: list[str] | None = None) -> dict[str, list[str]]:
    """What Django must accept for the API served at https://<host>."""
    if not isinstance(host, str) or not host or "/" in host or ":" in host:
        raise AnsibleFilterError(f"served_names: expected a bare host name, got {host!r}")
    hosts = [host] + [h for h in (extra_hosts or []) if h != host]
    return {"allowed_hosts": hosts, "csrf_trusted_origins": [f"https://{host}"]}


def _partition(identity: dict[str, Any]) -> str:
    try:
        return str(identity["arn"]).split(":")[1]
    except (KeyError, IndexError, TypeError) as error:
        raise AnsibleFilterError(
            "an AWS identity needs 'account' and 'arn' (aws_caller_info); "
            f"got {identity!r}") from error


def aws_arn(identity: dict[str, Any], service: str, region: str, resource: str) -> str:
    """arn:<partition>:<service>:<region>:<account>:<resource>, the partition (aws, aws-cn,
    aws-us-gov) read off the caller's ARN; region '' for global services such as IAM."""
    return f"arn:{_partition(identity)}:{service}:{region}:{identity['account']}:{resource}"


def parameter_arn(name: str, identity: dict[str, Any], region: str) -> str:
    """arn:<partition>:ssm:<region>:<account>:parameter/<path>/<name> (the name starts with /)."""
    if not name.startswith("/"):
        raise AnsibleFilterError(f"parameter_arn: expected a full parameter name, got {name!r}")
    return aws_arn(identity, "ssm", region, f"parameter{name}")


def task_secrets(settings: dict[str, dict[str, Any]], identity: dict[str, Any],
                 region: str) -> list[dict[str, str]]:
    """The container definition's ``secrets``: every setting, as its env variable, by ARN."""
    return sorted(
        ({"name": item["env"], "valueFrom": parameter_arn(item["parameter"], identity, region)}
         for item in settings.values()),
        key=lambda secret: secret["name"],
    )


def parameter_requests(settings: dict[str, dict[str, Any]], values: dict[str, Any], writer: str,
                       key_id: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    """The parameters ``writer`` owns, as ``booking.aws.ssm_parameters`` takes them.

    Every setting the registry gives to ``writer`` needs a value and every value needs a setting
    of ``writer``: a role can neither forget a parameter the app reads nor write one nobody reads.
    Secret settings become SecureStrings under ``key_id``; the others plain Strings.
    """
    owned = {name: item for name, item in settings.items() if item["writer"] == writer}
    missing = sorted(set(owned) - set(values))
    unknown = sorted(set(values) - set(owned))
    if missing or unknown:
        raise AnsibleFilterError(
            f"parameter_requests: the settings {writer} writes are {sorted(owned)}; "
            f"no value for {missing}, no such setting for {unknown}")
    requests = []
    for name, item in owned.items():
        request = {"name": item["parameter"], "value": values[name],
                   "type": "SecureString" if item["secret"] else "String",
                   "description": item["description"], "tier": "Standard",
                   "tags": {**tags, "Name": item["parameter"]}, "purge_tags": True}
        if item["secret"]:
            request["key_id"] = key_id
        requests.append(request)
    return requests


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "resource_names": resource_names,
            "redis_members": redis_members,
            "bucket_names": bucket_names,
            "app_settings": app_settings,
            "migration_settings": migration_settings,
            "served_names": served_names,
            "aws_arn": aws_arn,
            "parameter_arn": parameter_arn,
            "task_secrets": task_secrets,
            "parameter_requests": parameter_requests,
        }
