"""Small corrections to moto so the emulator answers the way AWS does.

Each patch restores one documented AWS behaviour that moto 5.2 gets wrong, so that roles can be
written for real AWS and still converge against the emulator. Nothing here changes a role: when a
patch is missing, the symptom is a role that looks non-idempotent against the emulator only.

Apply them once, before the moto server handles its first request: ``apply_all()``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

_applied = False


def _ec2_tag_resource_types() -> None:
    """DescribeTags reports AWS's resource types for NAT gateways and Elastic IPs.

    AWS names them ``natgateway`` and ``elastic-ip``; moto answers ``nat-gateway`` and
    ``vpc-elastic-ip``. amazon.aws filters tags by resource type, finds none, and re-tags the
    NAT gateway and its EIP on every run (``changed`` forever).
    """
    from moto.ec2 import utils

    # The reverse map is shared by reference with moto.ec2.models.tags: mutate it in place.
    utils.EC2_PREFIX_TO_RESOURCE["nat"] = "natgateway"
    utils.EC2_PREFIX_TO_RESOURCE["eipalloc"] = "elastic-ip"


# Seconds that slow resources stay in their "being created" state, read from
# BOOKING_EMULATOR_CREATE_SECONDS, e.g. "rds=15,elasticache=10,nat=2,alb=3". Unset: moto's
# behaviour (everything is ready at once).
CREATE_SECONDS_ENV = "BOOKING_EMULATOR_CREATE_SECONDS"


def _creation_delays() -> dict[str, float]:
    spec = os.environ.get(CREATE_SECONDS_ENV, "")
    delays = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, _, seconds = item.partition("=")
        delays[kind.strip()] = float(seconds)
    return delays


def _hold_while_creating(cls: type, attribute: str, ready: str, creating: str,
                         seconds: float) -> None:
    """Make `cls.<attribute>` read `creating` for `seconds` after the object is made.

    The stored value is kept under `_booking_<attribute>`; only the *ready* state is held back,
    so deleting, modifying and the like read as moto sets them.
    """
    stored = f"_booking_{attribute}"

    def getter(obj: Any) -> Any:
        value = obj.__dict__.get(stored)
        born = obj.__dict__.get("_booking_born", 0.0)
        if value == ready and time.monotonic() - born < seconds:
            return creating
        return value

    def setter(obj: Any, value: Any) -> None:
        obj.__dict__.setdefault("_booking_born", time.monotonic())
        obj.__dict__[stored] = value

    setattr(cls, attribute, property(getter, setter))


def _slow_creation() -> None:
    """RDS instances, replication groups, NAT gateways and ALBs take time to create.

    On AWS they sit in creating / pending / provisioning for minutes; moto makes them ready at
    once, which hides whether a playbook issues its creates first and waits later. With
    BOOKING_EMULATOR_CREATE_SECONDS set, each kind named there reads as not ready for that many
    seconds after its create call.
    """
    delays = _creation_delays()
    if not delays:
        return
    from moto.ec2.models.nat_gateways import NatGateway
    from moto.elasticache.models import ReplicationGroup
    from moto.elbv2.models import FakeLoadBalancer
    from moto.rds.models import DBInstance

    if "rds" in delays:
        _hold_while_creating(DBInstance, "status", "available", "creating", delays["rds"])
    if "elasticache" in delays:
        _hold_while_creating(ReplicationGroup, "status", "available", "creating",
                             delays["elasticache"])
    if "nat" in delays:
        _hold_while_creating(NatGateway, "state", "available", "pending", delays["nat"])
    if "alb" in delays:
        # moto creates ALBs "provisioning" and flips them to "active" when first described.
        _hold_while_creating(FakeLoadBalancer, "state", "active", "provisioning", delays["alb"])


# What DescribeLoadBalancerAttributes answers for a new application load balancer on AWS.
_ALB_DEFAULT_ATTRIBUTES = {
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
    "client_keep_alive.seconds": "3600",
    "connection_logs.s3.enabled": "false",
    "connection_logs.s3.bucket": "",
    "connection_logs.s3.prefix": "",
    "deletion_protection.enabled": "false",
    "idle_timeout.timeout_seconds": "60",
    "load_balancing.cross_zone.enabled": "true",
    "routing.http.desync_mitigation_mode": "defensive",
    "routing.http.drop_invalid_header_fields.enabled": "false",
    "routing.http.preserve_host_header.enabled": "false",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
    "routing.http.xff_client_port.enabled": "false",
    "routing.http.xff_header_processing.mode": "append",
    "routing.http2.enabled": "true",
    "waf.fail_open.enabled": "false",
}


def _alb_default_attributes() -> None:
    """A new application load balancer has AWS's default attributes.

    AWS returns every attribute of an ALB from DescribeLoadBalancerAttributes, with its default
    (idle timeout 60 s, HTTP/2 on, desync mitigation defensive, ...). moto returns only five, so
    amazon.aws.elb_application_lb fails with ``KeyError: 'idle_timeout_timeout_seconds'`` as soon
    as idle_timeout, http2, drop_invalid_header_fields or waf_fail_open are set.
    """
    from moto.elbv2.models import FakeLoadBalancer

    original = FakeLoadBalancer.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.type == "application":
            self.attrs = {**self.attrs, **_ALB_DEFAULT_ATTRIBUTES}

    FakeLoadBalancer.__init__ = __init__


def _target_group_load_balancers_once() -> None:
    """A target group names each load balancer that routes to it once.

    AWS's DescribeTargetGroups ``LoadBalancerArns`` lists the load balancers associated with the
    group (API reference, TargetGroup), each once; moto 5.2 appends the load balancer again for
    every listener and rule that forwards to the group, so a group behind a production and a
    test listener reported the same load balancer twice.
    """
    from moto.elbv2.models import ELBv2Backend

    def dedupe(backend: Any) -> None:
        for group in backend.target_groups.values():
            group.load_balancer_arns[:] = list(dict.fromkeys(group.load_balancer_arns))

    for name in ("create_listener", "create_rule", "modify_listener", "modify_rule"):
        original = getattr(ELBv2Backend, name)

        def patched(self: Any, *args: Any, __original: Callable[..., Any] = original,
                    **kwargs: Any) -> Any:
            result = __original(self, *args, **kwargs)
            dedupe(self)
            return result

        setattr(ELBv2Backend, name, patched)


def _elasticache_replication_group_members() -> None:
    """A replication group has its NumCacheClusters member clusters, as on AWS.

    moto 5.2.5, cluster mode disabled: CreateReplicationGroup ignores NumCacheClusters (one node
    unless ReplicasPerNodeGroup is given), creates no member cache clusters (DescribeCacheClusters
    answers CacheClusterNotFound for the MemberClusters it reports, so engine version, security
    groups, subnet group and maintenance window cannot be read back), and ModifyReplicationGroup
    drops SecurityGroupIds, EngineVersion, PreferredMaintenanceWindow and SnapshotWindow.
    """
    from moto.elasticache import models, responses

    group_cls, backend_cls = models.ReplicationGroup, models.ElastiCacheBackend
    set_members = group_cls._set_node_members_clusters_disabled

    def _members(self, **kwargs):  # NumCacheClusters = primary + replicas
        wanted = kwargs.get("num_cache_clusters") or 1
        if not kwargs.get("replicas_per_node_group") and wanted > 1:
            kwargs["replicas_per_node_group"] = wanted - 1
        set_members(self, **kwargs)

    group_cls._set_node_members_clusters_disabled = _members
    # DescribeCacheClusters returns SecurityGroups [{SecurityGroupId, Status}].
    models.CacheCluster.security_groups = property(
        lambda self: [{"SecurityGroupId": g, "Status": "active"} for g in self.security_group_ids])

    create_group = backend_cls.create_replication_group

    def _create(self, **kwargs):
        group = create_group(self, **kwargs)
        code = models.CacheCluster.__init__.__code__
        fields = dict.fromkeys(code.co_varnames[1:code.co_argcount])
        for node_group in group.node_groups:
            for member in node_group["node_group_members"]:
                self.cache_clusters[member["cache_cluster_id"]] = models.CacheCluster(
                    **{**fields, "account_id": self.account_id, "region_name": self.region_name,
                       "cache_cluster_id": member["cache_cluster_id"],
                       "replication_group_id": group.replication_group_id,
                       "preferred_availability_zone": member.get("preferred_availability_zone"),
                       "log_delivery_configurations": [],
                       **{k: kwargs.get(k) for k in (
                           "cache_node_type", "engine", "engine_version",
                           "cache_parameter_group_name", "cache_subnet_group_name",
                           "transit_encryption_enabled", "preferred_maintenance_window", "port",
                           "auto_minor_version_upgrade", "snapshot_retention_limit",
                           "snapshot_window", "auth_token", "security_group_ids")}})
        return group

    backend_cls.create_replication_group = _create

    modify = responses.ElastiCacheResponse.modify_replication_group

    def _modify(self):
        result = modify(self)
        backend = self.elasticache_backend
        group = backend.replication_groups[self._get_param("ReplicationGroupId")]
        if self._get_param("SnapshotWindow"):
            group.snapshot_window = self._get_param("SnapshotWindow")
        for cluster_id in group.member_clusters:
            cluster = backend.cache_clusters.get(cluster_id)
            for param, attr in (("SecurityGroupIds", "security_group_ids"),
                                ("EngineVersion", "engine_version"),
                                ("PreferredMaintenanceWindow", "preferred_maintenance_window"),
                                ("CacheNodeType", "cache_node_type")):
                if cluster is not None and self._get_param(param) is not None:
                    setattr(cluster, attr, self._get_param(param))
        return result

    responses.ElastiCacheResponse.modify_replication_group = _modify


def _scaling_policy_names() -> None:
    """DescribeScalingPolicies honours PolicyNames, as on AWS.

    moto ignores the filter and answers the resource's first policy, so a module asking for one
    policy by name (community.aws.application_autoscaling_policy, MaxResults=1) compares against
    another and reports changed on every run once a service has two policies.
    """
    from moto.applicationautoscaling import responses

    describe = responses.ApplicationAutoScalingResponse.describe_scaling_policies

    def _describe(self: Any) -> str:
        names = self._get_param("PolicyNames")
        if not names:
            return describe(self)
        backend = self.applicationautoscaling_backend
        policies = [p for p in backend.policies.values()
                    if p.policy_name in names
                    and p.service_namespace == self._get_param("ServiceNamespace")
                    and (not self._get_param("ResourceId")
                         or p.resource_id == self._get_param("ResourceId"))]
        return json.dumps({"ScalingPolicies": [responses._build_policy(p) for p in policies]})

    responses.ApplicationAutoScalingResponse.describe_scaling_policies = _describe


def _ecs_data_plane() -> None:
    """ECS deployments roll out and one-off tasks stop with an exit code (see moto_ecs)."""
    import moto_ecs

    moto_ecs.apply()


def _rds_real_postgres() -> None:
    """With BOOKING_EMULATOR_RDS=postgres, a postgres DB instance is a real server (see
    rds_postgres)."""
    import rds_postgres

    rds_postgres.apply()


def _rds_restore_window() -> None:
    """LatestRestorableTime trails the present by the log upload interval, and a point-in-time
    restore is held to the restorable window (see rds_backups). After _rds_real_postgres: its
    window check runs before a real server is restored."""
    import rds_backups

    rds_backups.apply()


def _elb_real_proxy() -> None:
    """With BOOKING_EMULATOR_ELB=proxy, an application load balancer is a real HTTP(S) proxy
    and its target groups health-check their targets (see elb_proxy)."""
    import elb_proxy

    elb_proxy.apply()


def _elasticache_real_redis() -> None:
    """With BOOKING_EMULATOR_ELASTICACHE=redis, a redis or valkey replication group is a real
    server (see elasticache_redis)."""
    import elasticache_redis

    elasticache_redis.apply()


def _cloudtrail_delete_by_arn() -> None:
    """DeleteTrail takes the trail's name or its ARN, as on AWS (moto ignored an ARN silently)."""
    from moto.cloudtrail.models import CloudTrailBackend

    original = CloudTrailBackend.delete_trail

    def delete_trail(self: Any, name: str) -> None:
        by_arn = [t.trail_name for t in self.trails.values() if t.arn == name]
        original(self, by_arn[0] if by_arn else name)

    CloudTrailBackend.delete_trail = delete_trail


def _elasticache_replication_group_deletion() -> None:
    """A deleted replication group goes away, as on AWS.

    AWS answers DeleteReplicationGroup with the group 'deleting' and, minutes later, no longer
    lists it (ReplicationGroupNotFoundFault). moto keeps it 'deleting' forever, so a wait for its
    deletion never ends and its cache subnet group can never be deleted.
    """
    from moto.elasticache.models import ElastiCacheBackend

    original = ElastiCacheBackend.delete_replication_group

    def delete_replication_group(self: Any, replication_group_id: str,
                                 retain_primary_cluster: Any) -> Any:
        group = original(self, replication_group_id, retain_primary_cluster)
        self.replication_groups.pop(replication_group_id, None)
        for cluster_id in list(getattr(group, "member_clusters", []) or []):
            self.cache_clusters.pop(cluster_id, None)
        return group

    ElastiCacheBackend.delete_replication_group = delete_replication_group


def _elasticache_delete_cache_subnet_group() -> None:
    """DeleteCacheSubnetGroup deletes the group (moto: NotImplementedError, HTTP 500)."""
    from moto.core.responses import EmptyResult
    from moto.elasticache.exceptions import CacheSubnetGroupNotFound
    from moto.elasticache.models import ElastiCacheBackend
    from moto.elasticache.responses import ElastiCacheResponse

    def backend_delete(self: Any, cache_subnet_group_name: str) -> None:
        group = self.cache_subnet_groups.pop(cache_subnet_group_name, None)
        if group is None:
            raise CacheSubnetGroupNotFound(cache_subnet_group_name)
        self.tagging_service.delete_all_tags_for_resource(group.arn)

    def response_delete(self: Any) -> Any:
        self.elasticache_backend.delete_cache_subnet_group(
            self._get_param("CacheSubnetGroupName"))
        return EmptyResult()

    ElastiCacheBackend.delete_cache_subnet_group = backend_delete
    ElastiCacheResponse.delete_cache_subnet_group = response_delete


def _s3_requests_are_secure_transport() -> None:
    """Requests to the emulator count as TLS (aws:SecureTransport true), as boto3's are on AWS.

    moto ignores policy conditions, so a bucket policy's "Deny s3:* unless aws:SecureTransport"
    statement denies every object operation (PutObject, DeleteObjects...) over the emulator's
    plain HTTP. Statements conditioned only on aws:SecureTransport=false are left out of the
    evaluation.
    """
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    insecure_only = {"Bool": {"aws:SecureTransport": "false"}}

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode())
        statements = document.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        document["Statement"] = [st for st in statements if st.get("Condition") != insecure_only]
        if not document["Statement"]:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(document)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


def _default_security_group_admits_its_members() -> None:
    """A VPC's default security group comes with its inbound rule, as on AWS.

    AWS creates every VPC's default group with two rules: all traffic in from the group itself,
    all traffic out (docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html).
    moto gives it the outbound rule only, so emptying the group (CIS 5.4, FSBP EC2.2) looked
    done before anything was done.
    """
    from moto.ec2.models.vpcs import VPCBackend

    original = VPCBackend.create_vpc

    def create_vpc(self: Any, *args: Any, **kwargs: Any) -> Any:
        vpc = original(self, *args, **kwargs)
        group = self.get_security_group_from_name("default", vpc_id=vpc.id)
        if group is not None and not group.ingress_rules:
            self.authorize_security_group_ingress(
                group.id, "-1", None, None, [], source_groups=[{"GroupId": group.id}],
                vpc_id=vpc.id)
        return vpc

    VPCBackend.create_vpc = create_vpc


PATCHES: list[Callable[[], None]] = [
    _default_security_group_admits_its_members,
    _ec2_tag_resource_types,
    _slow_creation,
    _alb_default_attributes,
    _target_group_load_balancers_once,
    _elasticache_replication_group_members,
    _scaling_policy_names,
    _ecs_data_plane,
    _rds_real_postgres,
    _rds_restore_window,
    _elb_real_proxy,
    _elasticache_real_redis,
    _cloudtrail_delete_by_arn,
    _elasticache_replication_group_deletion,
    _elasticache_delete_cache_subnet_group,
    _s3_requests_are_secure_transport,
]


def apply_all() -> None:
    """Apply every patch once per process, then strict mode if BOOKING_EMULATOR_STRICT asks.

    Strict mode (tools/moto_strict.py) makes moto as strict as AWS where a first run fails; it
    is off unless that variable is set, read here.
    """
    global _applied
    if _applied:
        return
    for patch in PATCHES:
        patch()
    import moto_strict

    moto_strict.apply_from_env()
    _applied = True


# --- Read-only answers for `make verify` (playbooks/verify.yml) --------------------------------

# RDS for PostgreSQL versions the emulator offers when strict mode's own list is off (strict mode,
# tools/moto_strict.py `rds_versions`, has the last word when on), and the DB instance classes
# RDS offers for PostgreSQL (RDS User Guide, "Supported DB engines for DB instance classes").
_RDS_POSTGRES_VERSIONS = ["13.20", "13.21", "13.22", "14.17", "14.18", "14.19", "15.12", "15.13",
                          "15.14", "16.8", "16.9", "16.10", "17.4", "17.5", "17.6"]
_RDS_POSTGRES_CLASSES = [
    *(f"db.{family}.{size}" for family in ("t3", "t4g")
      for size in ("micro", "small", "medium", "large", "xlarge", "2xlarge")),
    *(f"db.{family}.{size}" for family in ("m5", "m6g", "m6i", "m7g", "r5", "r6g", "r6i", "r7g")
      for size in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")),
]
_RDS_STORAGE_TYPES = ("gp2", "gp3", "io1", "io2")


def _rds_postgres_versions() -> list[str]:
    import sys

    strict = sys.modules.get("moto_strict")
    active = getattr(strict, "ACTIVE", None)
    if active is not None and getattr(active, "rds_versions", False):
        return list(strict.offered_versions("postgres"))
    return list(_RDS_POSTGRES_VERSIONS)


def _rds_orderable_postgres() -> None:
    """DescribeOrderableDBInstanceOptions answers for PostgreSQL, as on AWS.

    AWS answers one option per engine version, DB instance class and storage type RDS offers in
    the Region, filtered by Engine, EngineVersion (an exact version), DBInstanceClass and Vpc,
    MaxRecords at a time (default 100) with a Marker for the rest. moto 5.2 answers only
    aurora-postgresql and neptune and an empty list for every other engine, so "can RDS create
    postgres 15 on db.t3.medium here?" always reads "no". Versions: strict mode's offered ones
    when it is on, else a recent set (13-17).
    """
    import base64

    from moto.core.responses import ActionResult
    from moto.rds.responses import RDSResponse

    original = RDSResponse.describe_orderable_db_instance_options

    def describe(self: Any) -> Any:
        engine = self.params.get("Engine")
        if engine != "postgres":
            return original(self)
        version = self.params.get("EngineVersion")
        instance_class = self.params.get("DBInstanceClass")
        vpc = self.params.get("Vpc")
        zones = [{"Name": f"{self.region}{zone}"} for zone in "abc"]
        options = [
            {"Engine": engine, "EngineVersion": v, "DBInstanceClass": c,
             "LicenseModel": "postgresql-license", "AvailabilityZones": zones,
             "MultiAZCapable": True, "ReadReplicaCapable": True, "Vpc": True,
             "SupportsStorageEncryption": True, "StorageType": storage,
             "SupportsIops": storage != "gp2", "SupportsEnhancedMonitoring": True,
             "SupportsIAMDatabaseAuthentication": True, "SupportsPerformanceInsights": True,
             "SupportedEngineModes": ["provisioned"], "SupportedNetworkTypes": ["IPV4", "DUAL"]}
            for v in _rds_postgres_versions() if version in (None, "", v)
            for c in _RDS_POSTGRES_CLASSES if instance_class in (None, "", c)
            for storage in _RDS_STORAGE_TYPES]
        if vpc is not None and str(vpc).lower() == "false":
            options = []  # EC2-Classic is gone: every option is a VPC one
        size = min(int(self.params.get("MaxRecords") or 100), 1000)
        marker = self.params.get("Marker")
        start = int(base64.b64decode(marker).decode()) if marker else 0
        result: dict[str, Any] = {"OrderableDBInstanceOptions": options[start:start + size]}
        if start + size < len(options):
            result["Marker"] = base64.b64encode(str(start + size).encode()).decode()
        return ActionResult(result)

    RDSResponse.describe_orderable_db_instance_options = describe


# AWS's defaults of the quotas `make verify` reads that moto 5.2 does not know (it knows the
# `vpc` service's only): (service code, quota code) -> (service name, quota name, value).
# Fargate: 4000 vCPU is the Service Quotas default; the ECS general reference lists 6 for a new
# account ("New AWS accounts might have initial lower quotas that can increase over time"), an
# applied value that `set_applied_service_quota` gives the emulator's account when a test asks.
_SERVICE_QUOTA_DEFAULTS: dict[tuple[str, str], tuple[str, str, float]] = {
    ("fargate", "L-3032A538"): ("AWS Fargate", "Fargate On-Demand vCPU resource count", 4000.0),
    ("fargate", "L-36FBB829"): ("AWS Fargate", "Fargate Spot vCPU resource count", 4000.0),
    ("elasticloadbalancing", "L-53DA6B97"): ("Elastic Load Balancing (ELB)",
                                             "Application Load Balancers per Region", 50.0),
    ("ec2", "L-0263D0A3"): ("Amazon Elastic Compute Cloud (Amazon EC2)", "EC2-VPC Elastic IPs",
                            5.0),
}
_APPLIED_QUOTAS = "_booking_applied_quotas"


def _service_quota_document(backend: Any, service_code: str, quota_code: str,
                            applied: bool) -> dict[str, Any] | None:
    known = _SERVICE_QUOTA_DEFAULTS.get((service_code, quota_code))
    if known is None:
        from moto.servicequotas.resources.default_quotas.vpc import VPC_DEFAULT_QUOTAS

        found = [q for q in VPC_DEFAULT_QUOTAS
                 if service_code == "vpc" and q["QuotaCode"] == quota_code]
        if not found:
            return None
        quota = dict(found[0])
    else:
        service_name, quota_name, value = known
        quota = {"ServiceCode": service_code, "ServiceName": service_name,
                 "QuotaCode": quota_code, "QuotaName": quota_name, "Value": value,
                 "Unit": "None", "Adjustable": True, "GlobalQuota": False}
    account = backend.account_id if applied else ""
    quota["QuotaArn"] = (f"arn:aws:servicequotas:{backend.region_name}:{account}:"
                         f"{service_code}/{quota_code}")
    if applied:
        override = backend.__dict__.get(_APPLIED_QUOTAS, {}).get((service_code, quota_code))
        if override is not None:
            quota["Value"] = float(override)
    return quota


def _service_quota_defaults() -> None:
    """Service Quotas answers GetServiceQuota and GetAWSDefaultServiceQuota, as on AWS.

    AWS answers both for every quota of every service: GetAWSDefaultServiceQuota the AWS default,
    GetServiceQuota the value applied to the account (the default until an increase is granted;
    AWS may also apply a lower initial value to a new account). moto 5.2 answers GetServiceQuota
    for the `vpc` service only (NoSuchResourceException for fargate, elasticloadbalancing, ec2)
    and does not implement GetAWSDefaultServiceQuota. Here both answer the `vpc` quotas and
    those of _SERVICE_QUOTA_DEFAULTS; `set_applied_service_quota` gives the account another
    applied value (until the emulator is reset).
    """
    from moto.servicequotas.exceptions import NoSuchResource
    from moto.servicequotas.models import ServiceQuotasBackend
    from moto.servicequotas.responses import ServiceQuotasResponse

    def get_service_quota(self: Any, service_code: str, quota_code: str) -> dict[str, Any]:
        quota = _service_quota_document(self, service_code, quota_code, applied=True)
        if quota is None:
            raise NoSuchResource
        return quota

    def get_aws_default(self: Any) -> str:
        params = json.loads(self.body)
        quota = _service_quota_document(self.backend, str(params.get("ServiceCode")),
                                        str(params.get("QuotaCode")), applied=False)
        if quota is None:
            raise NoSuchResource
        return json.dumps({"Quota": quota})

    ServiceQuotasBackend.get_service_quota = get_service_quota
    ServiceQuotasResponse.get_aws_default_service_quota = get_aws_default


def set_applied_service_quota(service_code: str, quota_code: str, value: float, *,
                              account_id: str = "123456789012",
                              region: str = "us-east-1") -> None:
    """Make GetServiceQuota answer `value` for the account (a new account's low quota, say)."""
    from moto.servicequotas.models import servicequotas_backends

    backend = servicequotas_backends[account_id][region]
    backend.__dict__.setdefault(_APPLIED_QUOTAS, {})[(service_code, quota_code)] = value


PATCHES.extend([_rds_orderable_postgres, _service_quota_defaults])
