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


def test_fargate_line_is_vcpu_and_gb_hours():
    variables = {
        "ecs_service_web_desired_count": 3, "ecs_service_web_cpu": 2048,
        "ecs_service_web_memory": 4096, "ecs_service_worker_desired_count": 0,
        "ecs_service_worker_cpu": 512, "ecs_service_worker_memory": 1024,
        "ecs_service_worker_spot": False, "rds_instance_class": "db.t3.micro",
        "rds_multi_az": False, "rds_allocated_storage": 20, "rds_storage_type": "gp2",
        "elasticache_node_type": "cache.t3.micro", "elasticache_num_nodes": 1,
        "vpc_nat_gateway_mode": "single", "vpc_availability_zones": ["a", "b"],
        "cost_alb_lcu_average": 0, "cost_nat_gb_month": 0, "cost_internet_out_gb_month": 0,
        "cost_logs_gb_month": 0, "cost_s3_gb": 0, "cost_alarm_count": 0, "cost_dashboards": 0,
    }
    lines = {line.item: line for line in cost_report.estimate(variables, PRICES)}
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
