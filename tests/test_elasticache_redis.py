"""ElastiCache replication groups as real Redis servers (tools/elasticache_redis.py,
BOOKING_EMULATOR_ELASTICACHE=redis).

Against an emulator process of its own with the switch on: CreateReplicationGroup starts a Redis
server for the group at the loopback address behind its endpoint names; with in-transit
encryption it speaks TLS only (a certificate of the local CA for the endpoint name) and asks for
the AUTH token (a wrong one is refused); ModifyReplicationGroup rotates the token (ROTATE: old and
new, SET: the new one only); a group without encryption or token answers plain PING;
DeleteReplicationGroup and a reset stop the server. The client is a raw RESP socket (no Redis
client library). Cost: about 6 s here (2026-12-06, three runs 6.2-6.4 s wall): the emulator
process's start and stop about 4 s, a reset 1 s, three servers well under a second each.
"""

from __future__ import annotations

import json
import socket
import ssl
import urllib.request
from pathlib import Path

import boto3
import local_ca
import pytest
from botocore.exceptions import ClientError
from harness import emulator_process

pytestmark = pytest.mark.skipif(not Path("/usr/bin/redis-server").exists(),
                                reason="needs the machine's Redis server (/usr/bin/redis-server)")

TOKEN = "first-Auth-token-0123"
NEW_TOKEN = "second-Auth-token-4567"


@pytest.fixture(scope="module")
def redis_emulator(tmp_path_factory):
    calls = tmp_path_factory.mktemp("elasticache-redis") / "calls.jsonl"
    with emulator_process(calls, BOOKING_EMULATOR_ELASTICACHE="redis",
                          BOOKING_EMULATOR_STRICT="off") as url:
        ec2 = _client(url, "ec2")
        vpc_id = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.8.1.0/24",
                                   AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        _client(url, "elasticache").create_cache_subnet_group(
            CacheSubnetGroupName="redis-test", CacheSubnetGroupDescription="test",
            SubnetIds=[subnet])
        yield url


def _client(url: str, service: str):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="emulator", aws_secret_access_key="emulator")


def _endpoints(url: str) -> dict[str, str]:
    with urllib.request.urlopen(f"{url}/_emulator/endpoints", timeout=10) as response:
        return json.loads(response.read())


def _create(url: str, group_id: str, **settings) -> dict:
    group = _client(url, "elasticache").create_replication_group(
        ReplicationGroupId=group_id, ReplicationGroupDescription="test",
        CacheNodeType="cache.t3.micro", NumCacheClusters=2, CacheSubnetGroupName="redis-test",
        **settings)["ReplicationGroup"]
    return group["NodeGroups"][0]


def _command(*args: str) -> bytes:
    return b"".join([b"*%d\r\n" % len(args),
                     *(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)])


def _talk(address: str, *commands: tuple[str, ...], tls_name: str | None = None) -> list[bytes]:
    """Send each command on one connection; the first line of each reply."""
    raw = socket.create_connection((address, 6379), timeout=5)
    if tls_name is not None:
        context = ssl.create_default_context(cafile=str(local_ca.CA_CERT))
        raw = context.wrap_socket(raw, server_hostname=tls_name)  # verifies name and chain
    with raw, raw.makefile("rb") as replies:
        answers = []
        for command in commands:
            raw.sendall(_command(*command))
            answers.append(replies.readline().rstrip(b"\r\n"))
        return answers


def _answers_plain_ping(address: str) -> bool:
    """A Redis server answers PING over plain TCP there (no: refused, closed, or not Redis).

    Once an endpoint address is given back, a connection to it may leave the machine (here a
    proxy on the default route answers anything), so "no PONG" rather than "refused".
    """
    try:
        return _talk(address, ("PING",)) == [b"+PONG"]
    except OSError:
        return False


def _auth_ping(address: str, name: str, token: str) -> list[bytes]:
    return _talk(address, ("AUTH", token), ("PING",), tls_name=name)


def test_a_group_with_transit_encryption_and_a_token(redis_emulator):
    elasticache = _client(redis_emulator, "elasticache")
    node_group = _create(redis_emulator, "redis-tls", Engine="redis", EngineVersion="7.1",
                         TransitEncryptionEnabled=True, AuthToken=TOKEN)
    primary = node_group["PrimaryEndpoint"]["Address"]
    endpoints = _endpoints(redis_emulator)
    address = endpoints[primary]
    assert address.startswith("198.18."), address  # an endpoint address (tools/local_net.py)
    for member in node_group["NodeGroupMembers"]:  # each member's endpoint: the same server
        assert endpoints[member["ReadEndpoint"]["Address"]] == address

    assert _auth_ping(address, primary, TOKEN) == [b"+OK", b"+PONG"]
    assert _talk(address, ("PING",), tls_name=primary)[0].startswith(b"-NOAUTH")
    assert _auth_ping(address, primary, "not-the-Token-000")[0].startswith(b"-WRONGPASS")
    # ElastiCache's restricted commands are refused.
    assert _talk(address, ("AUTH", TOKEN), ("CONFIG", "GET", "dir"),
                 tls_name=primary)[1].startswith(b"-NOPERM")
    assert not _answers_plain_ping(address)  # TLS only

    elasticache.modify_replication_group(ReplicationGroupId="redis-tls", AuthToken=NEW_TOKEN,
                                         AuthTokenUpdateStrategy="ROTATE", ApplyImmediately=True)
    assert _auth_ping(address, primary, TOKEN) == [b"+OK", b"+PONG"]
    assert _auth_ping(address, primary, NEW_TOKEN) == [b"+OK", b"+PONG"]
    elasticache.modify_replication_group(ReplicationGroupId="redis-tls", AuthToken=NEW_TOKEN,
                                         AuthTokenUpdateStrategy="SET", ApplyImmediately=True)
    assert _auth_ping(address, primary, NEW_TOKEN) == [b"+OK", b"+PONG"]
    assert _auth_ping(address, primary, TOKEN)[0].startswith(b"-WRONGPASS")
    with pytest.raises(ClientError, match="InvalidParameterCombination"):  # only towards RBAC
        elasticache.modify_replication_group(ReplicationGroupId="redis-tls",
                                             AuthTokenUpdateStrategy="DELETE",
                                             ApplyImmediately=True)
    assert _auth_ping(address, primary, NEW_TOKEN) == [b"+OK", b"+PONG"]

    elasticache.delete_replication_group(ReplicationGroupId="redis-tls")
    assert primary not in _endpoints(redis_emulator)
    assert not _answers_plain_ping(address)


def test_a_group_without_encryption_or_token_answers_plain_tcp(redis_emulator):
    elasticache = _client(redis_emulator, "elasticache")
    node_group = _create(redis_emulator, "redis-plain", Engine="valkey")
    primary = node_group["PrimaryEndpoint"]["Address"]
    address = _endpoints(redis_emulator)[primary]
    assert _talk(address, ("PING",)) == [b"+PONG"]
    with pytest.raises(ClientError, match="InvalidParameterCombination"):  # needs TLS
        elasticache.modify_replication_group(ReplicationGroupId="redis-plain", AuthToken=TOKEN,
                                             AuthTokenUpdateStrategy="ROTATE",
                                             ApplyImmediately=True)
    assert _talk(address, ("PING",)) == [b"+PONG"]

    # A reset forgets the group: its server goes too.
    urllib.request.urlopen(urllib.request.Request(f"{redis_emulator}/moto-api/reset",
                                                  method="POST"), timeout=10).close()
    assert primary not in _endpoints(redis_emulator)
    assert not _answers_plain_ping(address)
