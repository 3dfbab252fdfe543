# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``state`` option of the booking.aws modules that make or delete one resource."""

from __future__ import annotations


class ModuleDocFragment:
    # What every such module's `state` shares: type, choices and default. Each module keeps a
    # `state` entry of its own with the one-line description of what exists; ansible-doc merges
    # that entry over this one (the module's keys win), so the rendered option is complete.
    DOCUMENTATION = r"""
options:
  state:
    description: Whether the resource should exist.
    type: str
    choices: [present, absent]
    default: present
"""
