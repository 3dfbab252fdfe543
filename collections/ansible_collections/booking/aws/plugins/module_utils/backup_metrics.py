# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names of the custom metrics of a DB instance's backups (dimension DBInstanceIdentifier):
rds_backup_metrics publishes them, the monitoring role's filter alarms on them.

Kept apart from rds_instances (which needs boto3's helpers) because a filter plugin imports it:
Ansible loads filter plugins in every forked task worker, so a boto3 import here would cost each
templated task ~0.3 s of controller CPU (tests/test_runtime_caches.py)."""

from __future__ import annotations

RESTORE_LAG_METRIC = "RestoreLagSeconds"
SNAPSHOT_AGE_METRIC = "SnapshotAgeSeconds"
