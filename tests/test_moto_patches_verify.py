"""The emulator answers the reads of `make verify` as AWS does (tools/moto_patches.py).

- DescribeOrderableDBInstanceOptions for postgres (moto 5.2: an empty list for every engine but
  aurora-postgresql and neptune): one option per version, class and storage type, its filters,
  and MaxRecords/Marker paging.
- Service Quotas (moto 5.2: GetServiceQuota for the `vpc` service only, no
  GetAWSDefaultServiceQuota): both answer the Fargate, ELB and EC2 quotas verify reads, an
  account may be given another applied value, and a reset forgets it.
"""

from __future__ import annotations

import moto_patches
import pytest
from botocore.exceptions import ClientError


def _all_options(rds, **filters):
    pages = rds.get_paginator("describe_orderable_db_instance_options").paginate(
        Engine="postgres", **filters, PaginationConfig={"PageSize": 20})
    return [option for page in pages for option in page["OrderableDBInstanceOptions"]]


def test_rds_offers_postgres_versions_on_its_classes_page_by_page(aws):
    rds = aws("rds")
    options = _all_options(rds, DBInstanceClass="db.t3.medium")
    triples = [(o["EngineVersion"], o["DBInstanceClass"], o["StorageType"]) for o in options]
    assert len(triples) == len(set(triples)), "paging repeated or lost an option"
    assert {o["DBInstanceClass"] for o in options} == {"db.t3.medium"}
    assert {"15.12", "16.10", "17.6"} <= {o["EngineVersion"] for o in options}
    assert {"gp2", "gp3", "io1"} <= {o["StorageType"] for o in options}
    assert all(o["MultiAZCapable"] and o["Vpc"] for o in options)
    # EngineVersion filters on the exact version, as the API does.
    exact = rds.describe_orderable_db_instance_options(Engine="postgres", EngineVersion="15.12",
                                                      DBInstanceClass="db.t3.medium")
    assert {o["EngineVersion"] for o in exact["OrderableDBInstanceOptions"]} == {"15.12"}
    assert rds.describe_orderable_db_instance_options(
        Engine="postgres", EngineVersion="15")["OrderableDBInstanceOptions"] == []
    assert _all_options(rds, DBInstanceClass="db.t1.micro") == []
    # Other engines: moto's own answers, untouched.
    aurora = rds.describe_orderable_db_instance_options(Engine="aurora-postgresql")
    assert aurora["OrderableDBInstanceOptions"]


@pytest.mark.parametrize(("service", "code", "name", "value"), [
    ("fargate", "L-3032A538", "Fargate On-Demand vCPU resource count", 4000.0),
    ("fargate", "L-36FBB829", "Fargate Spot vCPU resource count", 4000.0),
    ("elasticloadbalancing", "L-53DA6B97", "Application Load Balancers per Region", 50.0),
    ("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5.0),
    ("vpc", "L-F678F1CE", "VPCs per Region", 5.0),
])
def test_service_quotas_answer_applied_and_default_values(aws, service, code, name, value):
    quotas = aws("service-quotas")
    default = quotas.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]
    applied = quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]
    assert (default["QuotaName"], default["Value"]) == (name, value)
    assert (applied["QuotaName"], applied["Value"]) == (name, value)
    assert ":123456789012:" in applied["QuotaArn"]
    assert "::" in default["QuotaArn"].split(":servicequotas:")[1]


def test_an_applied_quota_answers_until_the_emulator_is_reset(fresh_emulator):
    quotas = fresh_emulator.client("service-quotas")
    moto_patches.set_applied_service_quota("fargate", "L-3032A538", 6)
    applied = quotas.get_service_quota(ServiceCode="fargate", QuotaCode="L-3032A538")["Quota"]
    default = quotas.get_aws_default_service_quota(ServiceCode="fargate",
                                                   QuotaCode="L-3032A538")["Quota"]
    assert (applied["Value"], default["Value"]) == (6.0, 4000.0)
    fresh_emulator.reset()
    again = quotas.get_service_quota(ServiceCode="fargate", QuotaCode="L-3032A538")["Quota"]
    assert again["Value"] == 4000.0
    with pytest.raises(ClientError, match="NoSuchResourceException"):
        quotas.get_service_quota(ServiceCode="fargate", QuotaCode="L-00000000")
    with pytest.raises(ClientError, match="NoSuchResourceException"):
        quotas.get_aws_default_service_quota(ServiceCode="fargate", QuotaCode="L-00000000")
