"""tools/cost_report.py: the monthly estimate follows the inventories' variables and the prices."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import cost_report

PRICES = yaml.safe_load(cost_report.PRICES.read_text())


@pytest.fixture(scope="module")
def report():
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cost_report.main(["--json"]) == 0
    return json.loads(out.getvalue())


def _line(report, env, item):
    return next(line for line in report[env]["lines"] if line["item"] == item)


def test_staging_and_production_side_by_side_follow_their_variables(report):
    assert set(report) == {"staging", "prod"}
    hours = PRICES["hours_per_month"]
    rds_hour = PRICES["rds_instance_hour"]["db.t3.medium"]
    # Production is Multi-AZ (two copies), staging single-AZ (its inventory says so).
    assert _line(report, "prod", "RDS PostgreSQL")["monthly"] == pytest.approx(2 * hours * rds_hour)
    assert _line(report, "staging", "RDS PostgreSQL")["monthly"] == pytest.approx(hours * rds_hour)
    # NAT per AZ in production, a single one in staging.
    assert "2 x NAT" in _line(report, "prod", "NAT gateways")["basis"]
    assert "1 x NAT" in _line(report, "staging", "NAT gateways")["basis"]
    # The worker runs on Spot outside production.
    assert "Spot" in _line(report, "staging", "Fargate worker")["basis"]
    assert _line(report, "staging", "Fargate worker")["monthly"] < \
        _line(report, "prod", "Fargate worker")["monthly"]
    for env in report:
        assert report[env]["total"] == pytest.approx(
            sum(line["monthly"] for line in report[env]["lines"]), abs=0.01)


VARIABLES = {
    "ecs_service_web_desired_count": 3, "ecs_service_web_cpu": 2048,
    "ecs_service_web_memory": 4096, "ecs_service_worker_desired_count": 0,
    "ecs_service_worker_cpu": 512, "ecs_service_worker_memory": 1024,
    "ecs_service_worker_spot": False, "rds_instance_class": "db.t3.micro",
    "rds_multi_az": False, "rds_allocated_storage": 20, "rds_storage_type": "gp2",
    "elasticache_node_type": "cache.t3.micro", "elasticache_num_nodes": 1,
    "vpc_nat_gateway_mode": "single", "vpc_availability_zones": ["a", "b"],
    "vpc_flow_logs_enabled": True, "vpc_flow_logs_traffic_type": "ALL",
    "booking_owns_account": True, "audit_cloudtrail_enabled": True,
    "audit_cloudtrail_cloudwatch_logs": False, "audit_config_enabled": True,
    "audit_config_excluded_resource_types": [],
    "cost_alb_lcu_average": 0, "cost_nat_gb_month": 0, "cost_internet_out_gb_month": 0,
    "cost_logs_gb_month": 0, "cost_s3_gb": 0, "cost_alarm_count": 0, "cost_dashboards": 0,
    "cost_flow_logs_gb_month": 100, "cost_flow_logs_share": {"ALL": 1.0, "ACCEPT": 0.9,
                                                             "REJECT": 0.1},
    "cost_management_events_month": 1_000_000, "cost_management_event_kb": 1,
    "cost_config_items_month": 1000, "cost_config_eni_items_month": 4000,
    "cost_config_rule_evaluations_month": 500,
}


def _lines(**overrides):
    return {line.item: line for line in cost_report.estimate({**VARIABLES, **overrides}, PRICES)}


def test_fargate_line_is_vcpu_and_gb_hours():
    lines = _lines()
    fargate = PRICES["fargate"]
    assert lines["Fargate web"].monthly == pytest.approx(
        3 * 730 * (2 * fargate["vcpu_hour"] + 4 * fargate["gb_hour"]))
    assert lines["Fargate worker"].monthly == 0
    assert lines["NAT gateways"].monthly == pytest.approx(730 * PRICES["nat_gateway"]["hour"])


def test_table_states_the_price_date():
    text = cost_report.render({"x": cost_report.estimate(
        cost_report.resolve("inventories/staging"), PRICES)}, PRICES)
    assert f"list prices of {PRICES['date']}" in text
    assert text.splitlines()[-1].startswith("total")


def test_flow_logs_cost_what_their_traffic_type_keeps():
    cw = PRICES["cloudwatch"]
    per_gb = cw["vended_logs_ingest_gb"] + cw["logs_storage_gb_month"]
    assert _lines()["VPC flow logs"].monthly == pytest.approx(100 * per_gb)
    reject = _lines(vpc_flow_logs_traffic_type="REJECT")["VPC flow logs"]
    assert reject.monthly == pytest.approx(10 * per_gb)
    assert reject.basis.startswith("REJECT")
    assert _lines(vpc_flow_logs_enabled=False)["VPC flow logs"].monthly == 0


def test_the_trail_is_free_as_the_accounts_first_copy_and_paid_as_a_second():
    trail = PRICES["cloudtrail"]
    assert trail["management_events_first_copy_per_100k"] == 0
    assert _lines()["CloudTrail"].monthly == 0
    # A trail in an account another environment owns copies every event of the account again.
    second = _lines(booking_owns_account=False)["CloudTrail"]
    assert second.monthly == pytest.approx(10 * trail["management_events_additional_copy_per_100k"])
    assert "second copy" in second.basis
    # Delivery to CloudWatch Logs is billed as log ingestion on top, first copy or not.
    cw = PRICES["cloudwatch"]
    gb = 1_000_000 / 1024 / 1024
    assert _lines(audit_cloudtrail_cloudwatch_logs=True)["CloudTrail"].monthly == pytest.approx(
        gb * (cw["logs_ingest_gb"] + cw["logs_storage_gb_month"]))
    # Off (the switch follows booking_owns_account in group_vars): nothing.
    assert _lines(booking_owns_account=False, audit_cloudtrail_enabled=False)[
        "CloudTrail"].monthly == 0


def test_config_items_leave_out_the_excluded_network_interfaces():
    config = PRICES["config"]
    evaluations = 500 * config["rule_evaluation"]
    assert _lines()["AWS Config"].monthly == pytest.approx(
        5000 * config["configuration_item"] + evaluations)
    scoped = _lines(audit_config_excluded_resource_types=["AWS::EC2::NetworkInterface"])
    assert scoped["AWS Config"].monthly == pytest.approx(
        1000 * config["configuration_item"] + evaluations)
    assert "ENIs excluded" in scoped["AWS Config"].basis
    assert _lines(audit_config_enabled=False)["AWS Config"].monthly == 0


def test_staging_pays_for_rejected_flows_only_and_no_second_trail(report):
    # Resolved by Ansible from the inventories: staging shares production's account, so its audit
    # switches (derived from booking_owns_account) are off, and its flow logs keep REJECT only.
    staging_flow = _line(report, "staging", "VPC flow logs")
    prod_flow = _line(report, "prod", "VPC flow logs")
    assert staging_flow["basis"].startswith("REJECT")
    assert prod_flow["basis"].startswith("ALL")
    assert staging_flow["monthly"] < prod_flow["monthly"]
    assert _line(report, "staging", "CloudTrail")["monthly"] == 0
    assert "first copy (free)" in _line(report, "prod", "CloudTrail")["basis"]
    assert _line(report, "staging", "AWS Config")["monthly"] == 0
    assert "ENIs excluded" in _line(report, "prod", "AWS Config")["basis"]


def test_staging_costs_less_than_with_production_audit_settings():
    # The same staging with the settings it had before (ALL flow logs, its own trail in
    # production's account): the estimate drops by the second trail and most flow log GB.
    staging = cost_report.resolve("inventories/staging")
    before = cost_report.estimate({**staging, "vpc_flow_logs_traffic_type": "ALL",
                                   "audit_cloudtrail_enabled": True}, PRICES)
    after = cost_report.estimate(staging, PRICES)
    saved = sum(line.monthly for line in before) - sum(line.monthly for line in after)
    trail = PRICES["cloudtrail"]["management_events_additional_copy_per_100k"]
    assert saved > float(staging["cost_management_events_month"]) / 100_000 * trail
