"""Shared fixtures: an in-process AWS emulator per test session, and ways to run Ansible on it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Strict emulator mode is the suite's default (tools/moto_strict.py): every emulator the tests
# start, in process or not, fails a first run as AWS does, with holds of seconds (the `test`
# profile). BOOKING_EMULATOR_STRICT=off (or another spec) in the environment overrides it.
os.environ.setdefault("BOOKING_EMULATOR_STRICT", "test")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
# booking.aws importable as ansible_collections.booking.aws (its filters import each other).
sys.path.insert(0, str(REPO / "collections"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulator import Emulator  # noqa: E402  (found through the path above)
from harness import AnsibleRunner  # noqa: E402


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """moto with our patches, in this process: tests can read its calls and drive its state.

    One per pytest worker (pytest-xdist), on a free port, so workers never share resources.
    """
    emu = Emulator(port=0).start()
    yield emu
    emu.stop()


@pytest.fixture
def fresh_emulator(emulator: Emulator) -> Emulator:
    """The session's emulator with every resource and recorded call forgotten."""
    emulator.reset()
    return emulator


@pytest.fixture(scope="session")
def ansible(emulator: Emulator) -> AnsibleRunner:
    return AnsibleRunner(emulator)


@pytest.fixture
def aws(emulator: Emulator):
    """A boto3 client factory pointed at the emulator: aws('ec2').describe_vpcs()."""
    return emulator.client
