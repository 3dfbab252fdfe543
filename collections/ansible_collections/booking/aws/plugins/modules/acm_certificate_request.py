#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request an ACM certificate (amazon.aws acm_certificate only imports certificates)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: acm_certificate_request
short_description: Request a public ACM certificate validated by DNS
description:
  - Ensures that an Amazon-issued ACM certificate exists for I(domain_name) plus
    I(subject_alternative_names), carrying I(tags), and returns it with its DNS validation records.
  - A certificate is identified by its domain name, its full set of names, its key algorithm and
    I(tags) (every given tag must be on the certificate; other tags are ignored). Certificates
    cannot be changed after issue, so different names or tags mean a new request; the certificate
    found before is left alone (it may still be in use by a listener) and reported as C(previous).
  - Only certificates that are C(PENDING_VALIDATION) or C(ISSUED) count; expired, revoked, failed
    or timed-out ones are ignored and a new one is requested.
  - With I(state=absent), every certificate matching the identity is deleted (AWS refuses while a
    certificate is in use).
  - Supports check mode and diff mode.
options:
  domain_name:
    description: The certificate's main name, e.g. C(api.example.com) or C(*.example.com).
    type: str
    required: true
  subject_alternative_names:
    description: Further names the certificate covers (the main name need not be repeated).
    type: list
    elements: str
    default: []
  validation_method:
    description: How ACM validates domain ownership.
    type: str
    choices: [DNS, EMAIL]
    default: DNS
  key_algorithm:
    description: Key algorithm of the certificate.
    type: str
    choices: [RSA_2048, EC_prime256v1, EC_secp384r1]
    default: RSA_2048
  tags:
    description: Tags put on a new certificate; they are also part of the certificate's identity.
    type: dict
    aliases: [resource_tags]
  state:
    description: Whether the certificate should exist.
extends_documentation_fragment:
  - booking.aws.state
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Request the API's certificate, validated by DNS
  booking.aws.acm_certificate_request:
    domain_name: api.example.com
    subject_alternative_names: [www.api.example.com]
    tags:
      Project: booking-api
      Environment: prod
      Name: booking-api-prod-alb
  register: cert

- name: Show the CNAME record that proves ownership of the first name
  ansible.builtin.debug:
    msg: "{{ cert.certificate.domain_validation_options[0].resource_record }}"
"""

RETURN = r"""
certificate:
  description: The certificate as described by ACM (snake_case keys, tags as a dict); empty when
    absent or not requested yet (check mode).
  returned: always
  type: dict
  sample:
    certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0e8b6e6d-...
    domain_name: api.example.com
    subject_alternative_names: [api.example.com, www.api.example.com]
    status: PENDING_VALIDATION
    domain_validation_options:
      - domain_name: api.example.com
        validation_method: DNS
        validation_status: PENDING_VALIDATION
        resource_record: {name: _x1.api.example.com., type: CNAME, value: _x2.acm-validations.aws.}
    tags: {Project: booking-api}
previous:
  description: ARNs of certificates for the same domain and tags whose names differ (kept as is).
  returned: when I(state=present)
  type: list
  elements: str
"""

import time
import uuid
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)

_LIVE = ["PENDING_VALIDATION", "ISSUED"]


def _names(domain: str, sans: list[str]) -> list[str]:
    return sorted({domain, *sans})


def _describe(client: Any, arn: str) -> dict[str, Any]:
    cert = client.describe_certificate(aws_retry=True, CertificateArn=arn)["Certificate"]
    tags = client.list_tags_for_certificate(aws_retry=True, CertificateArn=arn).get("Tags", [])
    cert["Tags"] = boto3_tag_list_to_ansible_dict(tags)
    return cert


def _candidates(client: Any, domain: str, key_algorithm: str,
                tags: dict[str, str]) -> list[dict[str, Any]]:
    """Live Amazon-issued certificates for `domain` carrying every one of `tags`, newest first."""
    paginator = client.get_paginator("list_certificates")
    summaries = paginator.paginate(
        CertificateStatuses=_LIVE, Includes={"keyTypes": [key_algorithm]}
    ).build_full_result()["CertificateSummaryList"]
    found = []
    for summary in summaries:
        if summary.get("DomainName") != domain:
            continue
        cert = _describe(client, summary["CertificateArn"])
        if cert.get("Type") != "AMAZON_ISSUED" or cert.get("Status") not in _LIVE:
            continue
        algorithm = cert.get("KeyAlgorithm", key_algorithm).replace("-", "_")
        if algorithm != key_algorithm.replace("-", "_"):
            continue
        if any(cert["Tags"].get(k) != v for k, v in tags.items()):
            continue
        found.append(cert)
    # ISSUED before PENDING_VALIDATION, then the newest.
    found.sort(key=lambda c: (c.get("Status") == "ISSUED", str(c.get("CreatedAt", ""))),
               reverse=True)
    return found


def _shown(cert: dict[str, Any] | None) -> dict[str, Any]:
    if not cert:
        return {}
    return {
        "domain_name": cert.get("DomainName"),
        "subject_alternative_names": sorted(cert.get("SubjectAlternativeNames", [])),
        "key_algorithm": cert.get("KeyAlgorithm"),
        "status": cert.get("Status"),
        "tags": cert.get("Tags", {}),
    }


def _result(cert: dict[str, Any] | None) -> dict[str, Any]:
    if not cert:
        return {}
    return camel_dict_to_snake_dict(cert, ignore_list=["Tags"])


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "domain_name": {"type": "str", "required": True},
            "subject_alternative_names": {"type": "list", "elements": "str", "default": []},
            "validation_method": {"type": "str", "default": "DNS", "choices": ["DNS", "EMAIL"]},
            "key_algorithm": {
                "type": "str", "default": "RSA_2048",
                "choices": ["RSA_2048", "EC_prime256v1", "EC_secp384r1"],
            },
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        supports_check_mode=True,
    )
    p = module.params
    tags = p["tags"] or {}
    names = _names(p["domain_name"], p["subject_alternative_names"])
    client = module.client("acm", retry_decorator=AWSRetry.jittered_backoff())

    try:
        candidates = _candidates(client, p["domain_name"], p["key_algorithm"], tags)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Unable to list ACM certificates")
    matching = [c for c in candidates if sorted(set(c.get("SubjectAlternativeNames", []))
                                               | {c.get("DomainName")}) == names]
    others = [c["CertificateArn"] for c in candidates if c not in matching]

    if p["state"] == "absent":
        if matching and not module.check_mode:
            try:
                for cert in matching:
                    client.delete_certificate(aws_retry=True, CertificateArn=cert["CertificateArn"])
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Unable to delete the certificate")
        module.exit_json(changed=bool(matching), certificate={},
                         diff={"before": _shown(matching[0] if matching else None), "after": {}})

    if matching:
        cert = matching[0]
        module.exit_json(changed=False, certificate=_result(cert), previous=others,
                         diff={"before": _shown(cert), "after": _shown(cert)})

    after = {
        "domain_name": p["domain_name"], "subject_alternative_names": names,
        "key_algorithm": p["key_algorithm"], "status": "PENDING_VALIDATION", "tags": tags,
    }
    if module.check_mode:
        module.exit_json(changed=True, certificate={}, previous=others,
                         diff={"before": {}, "after": after})

    # One token per run: a request the retry decorator re-sends returns the same certificate,
    # not a second one. Not derived from the names and tags: ACM keeps a token for an hour and
    # answers it with the certificate it first made, even one deleted since (a teardown followed
    # by site.yml within the hour). Across runs the lookup above finds an existing certificate.
    token = uuid.uuid4().hex
    request: dict[str, Any] = {
        "DomainName": p["domain_name"],
        "ValidationMethod": p["validation_method"],
        "KeyAlgorithm": p["key_algorithm"],
        "IdempotencyToken": token,
    }
    sans = [n for n in names if n != p["domain_name"]]
    if sans:
        request["SubjectAlternativeNames"] = [p["domain_name"], *sans]
    if tags:
        request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    try:
        arn = client.request_certificate(aws_retry=True, **request)["CertificateArn"]
        # ACM fills in the validation records a few seconds after the request.
        cert = _describe(client, arn)
        if p["validation_method"] == "DNS":
            for _ in range(30):
                options = cert.get("DomainValidationOptions", [])
                if len(options) == len(names) and all("ResourceRecord" in o for o in options):
                    break
                time.sleep(2)
                cert = _describe(client, arn)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Unable to request the certificate")
    module.exit_json(changed=True, certificate=_result(cert), previous=others,
                     diff={"before": {}, "after": _shown(cert)})


if __name__ == "__main__":
    main()
