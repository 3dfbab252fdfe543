"""Monthly cost estimate of the configured environments, line by line, from their variables.

    python tools/cost_report.py                       # staging and production side by side
    python tools/cost_report.py inventories/staging   # one inventory
    make cost

The sizes come from the inventories (resolved by Ansible itself: group_vars, inventory overrides,
Jinja), the prices from cost/prices-us-east-1.yml (dated); usage that no variable states (ALB
LCUs, NAT and internet traffic, log and S3 volume, flow log volume, management events, AWS Config
items) from cost_* variables in group_vars/all/cost.yml. The audit lines follow the environment:
flow logs by traffic type, the trail only where it is on (free as the account's first copy, paid
as a second one in a shared account), AWS Config items without the excluded network interfaces.
No AWS call is made.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
PRICES = REPO / "cost" / "prices-us-east-1.yml"
DEFAULT_INVENTORIES = ["inventories/staging", "inventories/production"]

# Every variable the estimate reads, resolved per inventory.
VARIABLES = [
    "booking_env", "ecs_service_web_desired_count", "ecs_service_web_cpu",
    "ecs_service_web_memory", "ecs_service_worker_desired_count", "ecs_service_worker_cpu",
    "ecs_service_worker_memory", "ecs_service_worker_spot", "rds_instance_class",
    "rds_multi_az", "rds_allocated_storage", "rds_storage_type", "elasticache_node_type",
    "elasticache_num_nodes", "vpc_nat_gateway_mode", "vpc_availability_zones",
    "vpc_flow_logs_enabled", "vpc_flow_logs_traffic_type", "booking_owns_account",
    "audit_cloudtrail_enabled", "audit_cloudtrail_cloudwatch_logs", "audit_config_enabled",
    "audit_config_excluded_resource_types",
    "cost_alb_lcu_average", "cost_nat_gb_month", "cost_internet_out_gb_month",
    "cost_logs_gb_month", "cost_s3_gb", "cost_alarm_count", "cost_dashboards",
    "cost_flow_logs_gb_month", "cost_flow_logs_share", "cost_management_events_month",
    "cost_management_event_kb", "cost_config_items_month", "cost_config_eni_items_month",
    "cost_config_rule_evaluations_month",
]
ENI = "AWS::EC2::NetworkInterface"


@dataclass
class Line:
    item: str
    basis: str
    monthly: float


def resolve(inventory: str) -> dict[str, Any]:
    """The variables of the inventory's host, as Ansible resolves them (debug: no AWS call)."""
    expression = ("{{ {" + ", ".join(f"'{v}': {v} | default(None)" for v in VARIABLES)
                  + "} | to_json }}")
    env = {**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
           "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_CONFIG":
           str(REPO / "ansible.cfg"), "ANSIBLE_LOCALHOST_WARNING": "0"}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "all", "-i", inventory, "-c", "local",
         "-m", "ansible.builtin.debug", "-a", f"msg={expression}"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False)
    try:
        hosts = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]
        [result] = hosts.values()
        resolved = json.loads(result["msg"]) if isinstance(result["msg"], str) else result["msg"]
    except (ValueError, KeyError) as exc:
        raise SystemExit(f"cannot resolve the variables of {inventory}:\n{proc.stdout}"
                         f"{proc.stderr}") from exc
    # What no inventory or group_vars sets is the role's default (plain values, not templates).
    for name, value in resolved.items():
        role = next((r for r in ("ecs_service", "rds", "elasticache", "vpc", "audit")
                     if name.startswith(r + "_")), None)
        if value is None and role:
            defaults = yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())
            resolved[name] = defaults[name]
    return resolved


def _bool(value: Any) -> bool:
    """A switch as Ansible resolves it (a bool, or the string of a templated one)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def audit_lines(v: dict[str, Any], p: dict[str, Any]) -> list[Line]:
    """Flow logs, the trail and AWS Config: what the environment's switches make it pay."""
    cw = p["cloudwatch"]
    lines = []
    if _bool(v["vpc_flow_logs_enabled"]):
        traffic = v["vpc_flow_logs_traffic_type"]
        gb = float(v["cost_flow_logs_gb_month"]) * float(v["cost_flow_logs_share"][traffic])
        lines.append(Line("VPC flow logs", f"{traffic}: {gb:g} GB/month to CloudWatch Logs",
                          gb * (cw["vended_logs_ingest_gb"] + cw["logs_storage_gb_month"])))
    else:
        lines.append(Line("VPC flow logs", "off", 0.0))

    owns = _bool(v["booking_owns_account"])
    if _bool(v["audit_cloudtrail_enabled"]):
        events = float(v["cost_management_events_month"])
        trail = p["cloudtrail"]
        # The account's first copy is free; a trail in an account another environment owns is a
        # second copy of every management event of the account.
        per_100k = trail["management_events_first_copy_per_100k" if owns
                         else "management_events_additional_copy_per_100k"]
        monthly = events / 100_000 * per_100k
        basis = (f"{events / 1e6:g}M mgmt events, "
                 + ("first copy (free)" if owns else "second copy (paid)"))
        if _bool(v["audit_cloudtrail_cloudwatch_logs"]):
            gb = events * float(v["cost_management_event_kb"]) / 1024 / 1024
            monthly += gb * (cw["logs_ingest_gb"] + cw["logs_storage_gb_month"])
            basis += f", {gb:.1f} GB to CloudWatch Logs"
        lines.append(Line("CloudTrail", basis, monthly))
    else:
        lines.append(Line("CloudTrail", "no trail" + ("" if owns else " (the account's covers it)"),
                          0.0))

    if _bool(v["audit_config_enabled"]):
        config = p["config"]
        eni_excluded = ENI in (v["audit_config_excluded_resource_types"] or [])
        items = int(v["cost_config_items_month"]) + (
            0 if eni_excluded else int(v["cost_config_eni_items_month"]))
        evaluations = int(v["cost_config_rule_evaluations_month"])
        lines.append(Line("AWS Config",
                          f"{items:,} items" + (" (ENIs excluded)" if eni_excluded else "")
                          + f", {evaluations:,} rule evaluations",
                          items * config["configuration_item"]
                          + evaluations * config["rule_evaluation"]))
    else:
        lines.append(Line("AWS Config",
                          "not recorded here" + ("" if owns else " (the account's recorder)"), 0.0))
    return lines


def estimate(v: dict[str, Any], p: dict[str, Any]) -> list[Line]:
    hours = p["hours_per_month"]
    fargate = p["fargate"]
    lines = []
    web_vcpu, web_gb = int(v["ecs_service_web_cpu"]) / 1024, int(v["ecs_service_web_memory"]) / 1024
    web_n = int(v["ecs_service_web_desired_count"])
    lines.append(Line("Fargate web", f"{web_n} x {web_vcpu:g} vCPU / {web_gb:g} GB",
                      web_n * hours * (web_vcpu * fargate["vcpu_hour"]
                                       + web_gb * fargate["gb_hour"])))
    spot = bool(v["ecs_service_worker_spot"])
    w_vcpu = int(v["ecs_service_worker_cpu"]) / 1024
    w_gb = int(v["ecs_service_worker_memory"]) / 1024
    w_n = int(v["ecs_service_worker_desired_count"])
    vcpu_price = fargate["spot_vcpu_hour" if spot else "vcpu_hour"]
    gb_price = fargate["spot_gb_hour" if spot else "gb_hour"]
    lines.append(Line("Fargate worker", f"{w_n} x {w_vcpu:g} vCPU / {w_gb:g} GB"
                      + (" Spot" if spot else ""),
                      w_n * hours * (w_vcpu * vcpu_price + w_gb * gb_price)))
    copies = 2 if v["rds_multi_az"] else 1
    lines.append(Line("RDS PostgreSQL", f"{v['rds_instance_class']}"
                      + (" Multi-AZ" if copies == 2 else " single-AZ"),
                      copies * hours * p["rds_instance_hour"][v["rds_instance_class"]]))
    storage = int(v["rds_allocated_storage"])
    lines.append(Line("RDS storage", f"{storage} GB {v['rds_storage_type']} x {copies}",
                      copies * storage * p["rds_storage_gb_month"][v["rds_storage_type"]]))
    nodes = int(v["elasticache_num_nodes"])
    lines.append(Line("ElastiCache Redis", f"{nodes} x {v['elasticache_node_type']}",
                      nodes * hours * p["elasticache_node_hour"][v["elasticache_node_type"]]))
    lcu = float(v["cost_alb_lcu_average"])
    lines.append(Line("ALB", f"1 ALB, {lcu:g} LCU average",
                      hours * (p["alb"]["hour"] + lcu * p["alb"]["lcu_hour"])))
    nat_n = 1 if v["vpc_nat_gateway_mode"] == "single" else len(v["vpc_availability_zones"])
    nat_gb = float(v["cost_nat_gb_month"])
    lines.append(Line("NAT gateways", f"{nat_n} x NAT, {nat_gb:g} GB processed",
                      nat_n * hours * p["nat_gateway"]["hour"]
                      + nat_gb * p["nat_gateway"]["gb_processed"]))
    out_gb = float(v["cost_internet_out_gb_month"])
    lines.append(Line("Data transfer out", f"{out_gb:g} GB to the internet",
                      out_gb * p["data_transfer_out_gb"]))
    cw = p["cloudwatch"]
    logs_gb, s3_gb = float(v["cost_logs_gb_month"]), float(v["cost_s3_gb"])
    lines.append(Line("S3 and CloudWatch",
                      f"{s3_gb:g} GB S3, {logs_gb:g} GB app logs, {v['cost_alarm_count']} alarms, "
                      f"{v['cost_dashboards']} dashboard(s)",
                      s3_gb * p["s3_standard_gb_month"] + logs_gb * (cw["logs_ingest_gb"]
                                                                     + cw["logs_storage_gb_month"])
                      + int(v["cost_alarm_count"]) * cw["alarm_month"]
                      + int(v["cost_dashboards"]) * cw["dashboard_month"]))
    return lines + audit_lines(v, p)


def render(columns: dict[str, list[Line]], prices: dict[str, Any]) -> str:
    names = list(columns)
    items = [line.item for line in next(iter(columns.values()))]
    out = [f"Monthly estimate, USD, {prices['region']} list prices of {prices['date']} "
           f"({prices['hours_per_month']} h/month)", ""]
    header = f"{'item':<20}" + "".join(f"{n:>12}  {'basis (' + n + ')':<52}" for n in names)
    out += [header, "-" * len(header)]
    for index, item in enumerate(items):
        row = f"{item:<20}"
        for name in names:
            line = columns[name][index]
            row += f"{line.monthly:>12.2f}  {line.basis:<52}"
        out.append(row)
    out.append("-" * len(header))
    out.append(f"{'total':<20}" + "".join(
        f"{sum(line.monthly for line in columns[n]):>12.2f}  {'':<52}" for n in names))
    return "\n".join(line.rstrip() for line in out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inventories", nargs="*", default=DEFAULT_INVENTORIES)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    prices = yaml.safe_load(PRICES.read_text())
    columns = {}
    for inventory in args.inventories:
        variables = resolve(inventory)
        columns[variables["booking_env"]] = estimate(variables, prices)
    if args.json:
        print(json.dumps({env: {"lines": [vars(line) for line in lines],
                                "total": round(sum(line.monthly for line in lines), 2)}
                          for env, lines in columns.items()}, indent=2))
    else:
        print(render(columns, prices))
    return 0


if __name__ == "__main__":
    sys.exit(main())
