"""booking.aws.elasticache_replication_group(_info) against the emulator.

Create, no change, check mode, update in place, tags, absent, and that the AUTH token never shows.
"""

from __future__ import annotations

import pytest

MODULE = "booking.aws.elasticache_replication_group"
INFO = "booking.aws.elasticache_replication_group_info"
GROUP_ID = "test-redis"
TOKEN = "a-test-auth-token-0123456789"


@pytest.fixture
def network(fresh_emulator, aws):
    ec2 = aws("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
        for cidr, az in (("10.9.1.0/24", "us-east-1a"), ("10.9.2.0/24", "us-east-1b"))
    ]
    sgs = [ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]
           for name in ("redis", "redis-2")]
    aws("elasticache").create_cache_subnet_group(
        CacheSubnetGroupName="test-redis", CacheSubnetGroupDescription="t", SubnetIds=subnets)
    return sgs


def _args(sgs, **overrides):
    return {
        "replication_group_id": GROUP_ID,
        "description": "test cache",
        "engine_version": "7.1",
        "cache_node_type": "cache.t3.micro",
        "num_cache_clusters": 2,
        "preferred_cache_cluster_azs": ["us-east-1a", "us-east-1b"],
        "cache_subnet_group_name": "test-redis",
        "security_group_ids": [sgs[0]],
        "auth_token": TOKEN,
        "snapshot_retention_limit": 7,
        "snapshot_window": "03:00-04:00",
        "preferred_maintenance_window": "sun:05:00-sun:06:00",
        "tags": {"Project": "t", "Name": GROUP_ID},
        **overrides,
    }


def _group(aws):
    groups = aws("elasticache").describe_replication_groups()["ReplicationGroups"]
    return [g for g in groups if g["ReplicationGroupId"] == GROUP_ID]


def _tags(aws, arn):
    tags = aws("elasticache").list_tags_for_resource(ResourceName=arn)["TagList"]
    return {t["Key"]: t["Value"] for t in tags}


def test_check_mode_on_nothing_reports_a_change_and_creates_nothing(ansible, aws, network):
    result = ansible.module(MODULE, _args(network), check=True, diff=True)
    assert result["changed"] is True, result
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["cache_node_type"] == "cache.t3.micro"
    assert result["diff"]["after"]["automatic_failover"] == "enabled"
    assert _group(aws) == []


def test_creates_once_then_reports_no_change(ansible, aws, network):
    first = ansible.module(MODULE, _args(network))
    assert first["changed"] is True, first
    [group] = _group(aws)
    assert group["CacheNodeType"] == "cache.t3.micro"
    assert group["Engine"] == "redis"
    assert group["ClusterEnabled"] is False
    assert (group["AutomaticFailover"], group["MultiAZ"]) == ("enabled", "enabled")
    assert group["AtRestEncryptionEnabled"] is True
    assert group["TransitEncryptionEnabled"] is True
    assert group["AuthTokenEnabled"] is True
    assert group["SnapshotRetentionLimit"] == 7
    assert _tags(aws, group["ARN"]) == {"Project": "t", "Name": GROUP_ID}
    returned = first["replication_group"]
    assert returned["primary_endpoint"]["address"] == \
        group["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
    assert returned["primary_endpoint"]["port"] == 6379
    assert TOKEN not in str(first)

    second = ansible.module(MODULE, _args(network))
    assert second["changed"] is False, second
    checked = ansible.module(MODULE, _args(network), check=True, diff=True)
    assert checked["changed"] is False, checked
    assert checked["diff"]["before"] == checked["diff"]["after"]
    assert len(_group(aws)) == 1


def test_modifiable_settings_are_changed_in_place(ansible, aws, network):
    ansible.module(MODULE, _args(network))
    changed_args = _args(network, cache_node_type="cache.t3.small", snapshot_retention_limit=3,
                         description="bigger", multi_az_enabled=False)

    checked = ansible.module(MODULE, changed_args, check=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["cache_node_type"] == "cache.t3.micro"
    assert checked["diff"]["after"]["cache_node_type"] == "cache.t3.small"
    assert checked["diff"]["after"]["multi_az"] == "disabled"
    assert _group(aws)[0]["CacheNodeType"] == "cache.t3.micro", "check mode changed AWS"

    result = ansible.module(MODULE, changed_args)
    assert result["changed"] is True, result
    [group] = _group(aws)
    assert group["CacheNodeType"] == "cache.t3.small"
    assert group["SnapshotRetentionLimit"] == 3
    assert group["Description"] == "bigger"
    assert group["MultiAZ"] == "disabled"
    assert ansible.module(MODULE, changed_args)["changed"] is False


def test_automatic_failover_off_is_applied(ansible, aws, network):
    ansible.module(MODULE, _args(network))
    args = _args(network, automatic_failover_enabled=False, multi_az_enabled=False)
    assert ansible.module(MODULE, args)["changed"] is True
    assert _group(aws)[0]["AutomaticFailover"] == "disabled"
    assert ansible.module(MODULE, args)["changed"] is False


def test_tags_are_updated_and_purged(ansible, aws, network):
    ansible.module(MODULE, _args(network))
    result = ansible.module(MODULE, _args(network, tags={"Project": "u", "Team": "x"}))
    assert result["changed"] is True
    assert result["diff"]["after"]["tags"] == {"Project": "u", "Team": "x"}
    assert _tags(aws, _group(aws)[0]["ARN"]) == {"Project": "u", "Team": "x"}


def test_info_reports_the_group_and_its_absence(ansible, aws, network):
    missing = ansible.module(INFO, {"replication_group_id": GROUP_ID})
    assert (missing["exists"], missing["replication_group"]) == (False, {})
    ansible.module(MODULE, _args(network))
    info = ansible.module(INFO, {"replication_group_id": GROUP_ID})
    assert info["exists"] is True
    group = info["replication_group"]
    assert group["status"] == "available"
    assert group["cache_node_type"] == "cache.t3.micro"
    assert group["tags"]["Project"] == "t"
    assert group["primary_endpoint"]["address"] == \
        _group(aws)[0]["NodeGroups"][0]["PrimaryEndpoint"]["Address"]


def test_absent_deletes_and_then_reports_no_change(ansible, aws, network):
    ansible.module(MODULE, _args(network))
    args = {"replication_group_id": GROUP_ID, "state": "absent"}
    assert ansible.module(MODULE, args, check=True)["changed"] is True
    assert _group(aws)[0]["Status"] == "available"
    assert ansible.module(MODULE, args)["changed"] is True
    assert [g["Status"] for g in _group(aws)] in ([], ["deleting"])
    assert ansible.module(MODULE, args)["changed"] is False


def test_invalid_combinations_fail_clearly(ansible, network):
    no_failover = ansible.module(
        MODULE, _args(network, automatic_failover_enabled=False, multi_az_enabled=True))
    assert no_failover.get("failed") is True
    assert "automatic_failover_enabled" in no_failover["msg"]
    no_tls = ansible.module(MODULE, _args(network, transit_encryption_enabled=False))
    assert no_tls.get("failed") is True
    assert "transit_encryption_enabled" in no_tls["msg"]
    assert TOKEN not in str(no_tls)


def _give_members(sg_id: str, engine_version: str = "7.1.0") -> None:
    """Describe the group's member clusters as AWS does (moto 5.2.5 creates none)."""
    from moto.elasticache.models import CacheCluster, elasticache_backends

    backend = elasticache_backends["123456789012"]["us-east-1"]
    group = backend.replication_groups[GROUP_ID]
    code = CacheCluster.__init__.__code__
    fields = dict.fromkeys(code.co_varnames[1:code.co_argcount])
    for cluster_id in group.member_clusters:
        backend.cache_clusters[cluster_id] = CacheCluster(**{
            **fields, "account_id": "123456789012", "region_name": "us-east-1",
            "cache_cluster_id": cluster_id, "replication_group_id": GROUP_ID,
            "cache_node_type": "cache.t3.micro", "engine_version": engine_version,
            "cache_subnet_group_name": "test-redis", "security_group_ids": [sg_id],
            "preferred_maintenance_window": "sun:05:00-sun:06:00",
            "log_delivery_configurations": [],
        })
    # DescribeCacheClusters answers SecurityGroups; moto's model keeps only the IDs.
    CacheCluster.security_groups = property(
        lambda self: [{"SecurityGroupId": g, "Status": "active"} for g in self.security_group_ids])


def test_member_settings_are_compared_when_members_can_be_described(ansible, network):
    ansible.module(MODULE, _args(network))
    _give_members(network[0])

    same = ansible.module(MODULE, _args(network), check=True, diff=True)
    assert same["changed"] is False, same
    assert not any("not compared" in w for w in same.get("warnings", [])), same
    assert same["replication_group"]["security_group_ids"] == [network[0]]
    assert same["replication_group"]["engine_version"] == "7.1.0"  # "7.1" matches 7.1.0

    moved = ansible.module(MODULE, _args(network, security_group_ids=[network[1]],
                                         engine_version="7.2",
                                         preferred_maintenance_window="mon:01:00-mon:02:00"),
                           check=True, diff=True)
    assert moved["changed"] is True
    assert moved["diff"]["before"]["security_group_ids"] == [network[0]]
    assert moved["diff"]["after"]["security_group_ids"] == [network[1]]
    assert moved["diff"]["after"]["engine_version"] == "7.2"
    assert moved["diff"]["after"]["preferred_maintenance_window"] == "mon:01:00-mon:02:00"

