"""moto_patches._elasticache_replication_group_members: members exist as on AWS."""

from __future__ import annotations


def test_a_replication_group_has_its_member_clusters(emulator, aws):
    ec2, elasticache = aws("ec2"), aws("elasticache")
    vpc = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
    group_id = ec2.create_security_group(GroupName="redis-patch", Description="t",
                                         VpcId=vpc)["GroupId"]
    elasticache.create_replication_group(
        ReplicationGroupId="patch-rg", ReplicationGroupDescription="d", Engine="redis",
        EngineVersion="7.1", CacheNodeType="cache.t3.micro", NumCacheClusters=2,
        SecurityGroupIds=[group_id], PreferredMaintenanceWindow="sun:05:00-sun:06:00")
    [group] = elasticache.describe_replication_groups(
        ReplicationGroupId="patch-rg")["ReplicationGroups"]
    assert len(group["MemberClusters"]) == 2
    for member in group["MemberClusters"]:
        [cluster] = elasticache.describe_cache_clusters(CacheClusterId=member)["CacheClusters"]
        assert cluster["EngineVersion"] == "7.1"
        assert cluster["SecurityGroups"] == [{"SecurityGroupId": group_id, "Status": "active"}]

    elasticache.modify_replication_group(ReplicationGroupId="patch-rg",
                                         PreferredMaintenanceWindow="mon:05:00-mon:06:00",
                                         ApplyImmediately=True)
    [cluster] = elasticache.describe_cache_clusters(
        CacheClusterId=group["MemberClusters"][0])["CacheClusters"]
    assert cluster["PreferredMaintenanceWindow"] == "mon:05:00-mon:06:00"
