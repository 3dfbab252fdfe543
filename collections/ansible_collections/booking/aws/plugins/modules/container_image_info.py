#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether an image tag exists in ECR or in any OCI/Docker v2 registry, and its digest."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: container_image_info
short_description: Look up an image tag in ECR or in an OCI distribution (Docker v2) registry
description:
  - With I(registry) omitted, asks ECR (C(DescribeImages)) for I(repository):I(tag) in the
    account's (or I(registry_id)'s) registry of the region, and builds the image reference
    C(<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>).
  - With I(registry) (C(host:port) or an C(http(s)://) URL), asks that registry for the tag's
    manifest (C(HEAD /v2/<repository>/manifests/<tag>)), anonymously.
  - Never changes anything; C(exists) is false when the repository or the tag is missing.
options:
  repository:
    description: Repository name.
    type: str
    required: true
  tag:
    description: Image tag.
    type: str
    required: true
  registry:
    description: An OCI/Docker v2 registry instead of ECR, as C(host:port) (HTTPS) or a URL.
    type: str
  registry_id:
    description: ECR registry (account) id; default the caller's account.
    type: str
  validate_certs:
    description: Verify the registry's TLS certificate (I(registry) only).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Refuse a tag that was never pushed
  booking.aws.container_image_info:
    repository: booking-api-prod
    tag: "{{ image_tag }}"
  register: image
  failed_when: not image.exists
"""

RETURN = r"""
exists:
  description: Whether the tag exists.
  returned: always
  type: bool
image:
  description: Full image reference (registry/repository:tag).
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.us-east-1.amazonaws.com/booking-api-prod:3f2c1aa
digest:
  description: Manifest digest of the tag (null when it does not exist).
  returned: always
  type: str
pushed_at:
  description: When the image was pushed (ECR only).
  returned: when found in ECR
  type: str
"""

from typing import Any
from urllib.error import HTTPError, URLError

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.urls import open_url
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))


def _from_registry(module: AnsibleAWSModule) -> dict[str, Any]:
    p = module.params
    base = p["registry"] if "://" in p["registry"] else f"https://{p['registry']}"
    host = base.split("://", 1)[1].rstrip("/")
    url = f"{base.rstrip('/')}/v2/{p['repository']}/manifests/{p['tag']}"
    try:
        response = open_url(url, method="HEAD", headers={"Accept": MANIFEST_TYPES},
                            validate_certs=p["validate_certs"], timeout=15)
        digest = response.headers.get("Docker-Content-Digest")
        exists = True
    except HTTPError as e:
        if e.code != 404:
            module.fail_json(msg=f"Registry {base} answered HTTP {e.code} for {url}")
        digest, exists = None, False
    except URLError as e:
        module.fail_json(msg=f"Registry {base} cannot be reached: {e.reason}")
    return {"exists": exists, "digest": digest,
            "image": f"{host}/{p['repository']}:{p['tag']}"}


def _from_ecr(module: AnsibleAWSModule) -> dict[str, Any]:
    p = module.params
    client = module.client("ecr", retry_decorator=AWSRetry.jittered_backoff())
    kwargs: dict[str, Any] = {"repositoryName": p["repository"],
                              "imageIds": [{"imageTag": p["tag"]}]}
    if p["registry_id"]:
        kwargs["registryId"] = p["registry_id"]
    try:
        registry_id = p["registry_id"] or client.describe_registry(aws_retry=True)["registryId"]
        images = client.describe_images(aws_retry=True, **kwargs)["imageDetails"]
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("ImageNotFoundException",
                                                             "RepositoryNotFoundException"):
            module.fail_json_aws(e, msg=f"Unable to look up {p['repository']}:{p['tag']}")
        images = []
    except botocore.exceptions.BotoCoreError as e:
        module.fail_json_aws(e, msg=f"Unable to look up {p['repository']}:{p['tag']}")
    region = module.region
    image = f"{registry_id}.dkr.ecr.{region}.amazonaws.com/{p['repository']}:{p['tag']}"
    if not images:
        return {"exists": False, "digest": None, "image": image}
    return {"exists": True, "digest": images[0].get("imageDigest"), "image": image,
            "pushed_at": str(images[0].get("imagePushedAt"))}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "repository": {"type": "str", "required": True},
            "tag": {"type": "str", "required": True},
            "registry": {"type": "str"},
            "registry_id": {"type": "str"},
            "validate_certs": {"type": "bool", "default": True},
        },
        mutually_exclusive=[("registry", "registry_id")],
        supports_check_mode=True,
    )
    found = _from_registry(module) if module.params["registry"] else _from_ecr(module)
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
