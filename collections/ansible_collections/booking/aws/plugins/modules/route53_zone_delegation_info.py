#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a Route 53 public hosted zone exists and public DNS delegates the name to it."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: route53_zone_delegation_info
short_description: Whether a public hosted zone exists and is delegated to by public DNS
description:
  - Finds the Route 53 hosted zones named I(zone) and the name servers of the public one (its
    apex C(NS) records).
  - With I(check_delegation), asks a DNS resolver for the C(NS) records of I(zone), that is
    what the rest of the world sees, and compares both sets. A zone that exists but is not
    delegated to (the registrar or the parent zone names other name servers) cannot validate
    an ACM certificate by DNS, nor serve the API's name.
  - When several public zones have the name, the one public DNS delegates to is reported.
  - Never changes anything. The DNS query is plain UDP (TCP when the answer is truncated),
    with nothing but the Python standard library.
options:
  zone:
    description: The zone's name, e.g. C(booking-api.example.com).
    type: str
    required: true
  check_delegation:
    description: Ask public DNS for the zone's name servers and compare.
    type: bool
    default: true
  resolver:
    description:
      - The DNS resolver to ask, an IPv4 or IPv6 address; empty for the first C(nameserver)
        of C(/etc/resolv.conf).
    type: str
    default: ""
  resolver_port:
    description: The resolver's port.
    type: int
    default: 53
  timeout:
    description: Seconds to wait for the resolver's answer (two tries).
    type: float
    default: 3.0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Is booking-api.example.com delegated to its Route 53 zone?
  booking.aws.route53_zone_delegation_info:
    zone: booking-api.example.com
    resolver: 1.1.1.1
  register: zone
  failed_when: not zone.delegated
"""

RETURN = r"""
exists:
  description: Whether a public hosted zone of that name exists.
  returned: always
  type: bool
zones:
  description: Every hosted zone of that name (id, whether private).
  returned: always
  type: list
  elements: dict
zone_id:
  description: The public zone's id (empty when none).
  returned: always
  type: str
name_servers:
  description: The public zone's apex NS records, lower case, without the final dot, sorted.
  returned: always
  type: list
  elements: str
public_name_servers:
  description: What the resolver answers for the zone's NS records (null when not asked).
  returned: always
  type: list
  elements: str
public_status:
  description: The resolver's answer code (C(NOERROR), C(NXDOMAIN), C(SERVFAIL), ...) or why
    there was none (C(timeout), ...); null when not asked.
  returned: always
  type: str
resolver:
  description: The resolver asked (null when not asked).
  returned: always
  type: str
delegated:
  description: Whether public DNS answers exactly the zone's name servers (null when not asked).
  returned: always
  type: bool
"""

import random
import socket
import struct
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

NS = 2
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def normalize(name: str) -> str:
    return name.strip().rstrip(".").lower()


def system_resolver(path: str = "/etc/resolv.conf") -> str | None:
    try:
        with open(path, encoding="utf-8") as conf:
            for line in conf:
                fields = line.split()
                if len(fields) >= 2 and fields[0] == "nameserver":
                    return fields[1]
    except OSError:
        return None
    return None


def _encode_name(name: str) -> bytes:
    labels = [label.encode("idna") for label in normalize(name).split(".") if label]
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"


def _read_name(message: bytes, offset: int) -> tuple[str, int]:
    """The (possibly compressed) name at offset, and the offset after it."""
    labels: list[str] = []
    end = None
    for _ in range(128):  # a bound on pointer chains
        length = message[offset]
        if length & 0xC0 == 0xC0:
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | message[offset + 1]
            continue
        if length == 0:
            return ".".join(labels), end if end is not None else offset + 1
        labels.append(message[offset + 1:offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length
    raise ValueError("a DNS name loops")


def parse_ns_answer(message: bytes, query_id: int) -> tuple[str, list[str], bool]:
    """(answer code, NS names of the answer section, truncated?) of a DNS response."""
    ident, flags, qdcount, ancount, _, _ = struct.unpack(">HHHHHH", message[:12])
    if ident != query_id:
        raise ValueError("the DNS answer is for another query")
    truncated = bool(flags & 0x0200)
    offset = 12
    for _ in range(qdcount):
        _, offset = _read_name(message, offset)
        offset += 4
    names = []
    for _ in range(ancount):
        _, offset = _read_name(message, offset)
        rtype, _, _, length = struct.unpack(">HHIH", message[offset:offset + 10])
        offset += 10
        if rtype == NS:
            names.append(normalize(_read_name(message, offset)[0]))
        offset += length
    return RCODES.get(flags & 0x000F, str(flags & 0x000F)), sorted(set(names)), truncated


def query_ns(zone: str, resolver: str, timeout: float,
             port: int = 53) -> tuple[str, list[str]]:
    """Ask `resolver` for the NS records of `zone`: (answer code or failure, names)."""
    query_id = random.randint(0, 0xFFFF)
    query = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + _encode_name(zone) + \
        struct.pack(">HH", NS, 1)
    family = socket.AF_INET6 if ":" in resolver else socket.AF_INET
    for _ in range(2):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.settimeout(timeout)
                sock.sendto(query, (resolver, port))
                answer = sock.recv(65535)
            status, names, truncated = parse_ns_answer(answer, query_id)
            if not truncated:
                return status, names
            with socket.create_connection((resolver, port), timeout=timeout) as sock:
                sock.sendall(struct.pack(">H", len(query)) + query)
                data = b""
                while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
                    chunk = sock.recv(65535)
                    if not chunk:
                        break
                    data += chunk
            status, names, _ = parse_ns_answer(data[2:], query_id)
            return status, names
        except TimeoutError:
            continue
        except (OSError, ValueError, struct.error, IndexError) as e:
            return f"no answer ({e})", []
    return "timeout", []


def _zones(client: Any, zone: str) -> list[dict[str, Any]]:
    answer = client.list_hosted_zones_by_name(aws_retry=True, DNSName=zone, MaxItems="100")
    return [{"id": z["Id"].split("/")[-1], "private": bool(z.get("Config", {}).get("PrivateZone"))}
            for z in answer["HostedZones"] if normalize(z["Name"]) == normalize(zone)]


def _name_servers(client: Any, zone_id: str, zone: str) -> list[str]:
    answer = client.list_resource_record_sets(aws_retry=True, HostedZoneId=zone_id,
                                              StartRecordName=zone, StartRecordType="NS",
                                              MaxItems="1")
    return sorted({normalize(r["Value"]) for s in answer["ResourceRecordSets"]
                   if s["Type"] == "NS" and normalize(s["Name"]) == normalize(zone)
                   for r in s.get("ResourceRecords", [])})


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "zone": {"type": "str", "required": True},
            "check_delegation": {"type": "bool", "default": True},
            "resolver": {"type": "str", "default": ""},
            "resolver_port": {"type": "int", "default": 53},
            "timeout": {"type": "float", "default": 3.0},
        },
        supports_check_mode=True,
    )
    p = module.params
    zone = normalize(p["zone"])
    client = module.client("route53", retry_decorator=AWSRetry.jittered_backoff())
    try:
        zones = _zones(client, zone)
        public = {z["id"]: _name_servers(client, z["id"], zone)
                  for z in zones if not z["private"]}
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to read the hosted zones named {zone}")

    result: dict[str, Any] = {"exists": bool(public), "zones": zones, "zone_id": "",
                              "name_servers": [], "public_name_servers": None,
                              "public_status": None, "resolver": None, "delegated": None}
    if p["check_delegation"]:
        resolver = p["resolver"] or system_resolver()
        if not resolver:
            module.fail_json(msg="No DNS resolver: set resolver (no nameserver in "
                                 "/etc/resolv.conf)")
        status, answered = query_ns(zone, resolver, p["timeout"], p["resolver_port"])
        result.update(resolver=resolver, public_status=status, public_name_servers=answered)
    if public:
        answered = result["public_name_servers"]
        # Several public zones of one name: report the one public DNS delegates to.
        chosen = next((zid for zid, servers in public.items() if servers == answered),
                      next(iter(public)))
        result.update(zone_id=chosen, name_servers=public[chosen])
        if p["check_delegation"]:
            result["delegated"] = bool(answered) and public[chosen] == answered
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
