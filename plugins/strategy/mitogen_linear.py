"""Strategy ``mitogen_linear``: Mitogen for Ansible's linear strategy, found through ansible.cfg.

ansible.cfg points ``strategy_plugins`` here (a path relative to the repository), so
``ANSIBLE_STRATEGY=mitogen_linear`` works without naming the virtualenv's site-packages.

This is a proxy, as ansible_mitogen's own ``plugins/strategy/mitogen_linear.py`` is: Ansible's
PluginLoader loads this file under a made-up module name, so the real implementation is imported
under its canonical name (``ansible_mitogen.plugins.strategy.mitogen_linear``) and its class
re-exported; mitogen's types then exist once in memory. Its ``sys.path`` fallback (the
site-packages directory four levels above that file) does not apply to a file in this
repository: ansible_mitogen must be importable by the Python that runs Ansible, which
``pip install -r requirements.txt`` (the ``mitogen`` package) and the execution environment see to.
Switch back to Ansible's own strategy with ``ANSIBLE_STRATEGY=linear``.
"""

from __future__ import annotations

from ansible.errors import AnsibleError

try:
    from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule
except ImportError as exc:
    raise AnsibleError(
        "strategy mitogen_linear needs the 'mitogen' package in the Python that runs Ansible "
        "(pip install -r requirements.txt -c constraints.txt); or run with "
        f"ANSIBLE_STRATEGY=linear: {exc}") from exc

__all__ = ["StrategyModule"]
