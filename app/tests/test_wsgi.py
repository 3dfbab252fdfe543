"""The WSGI entry point loads the token libraries before gunicorn's threads start."""

import os
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1]


def test_wsgi_import_loads_every_token_module_up_front():
    # A fresh interpreter: in this one, earlier tests have imported the modules already.
    code = (
        "import sys, booking_api.wsgi as w;"
        "missing = [m for m in w.TOKEN_MODULES if m not in sys.modules];"
        "print(missing); sys.exit(1 if missing or not w.TOKEN_MODULES else 0)"
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="booking_api.test_settings")
    proc = subprocess.run([sys.executable, "-c", code], cwd=APP, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_token_modules_are_the_ones_allauth_defers():
    # allauth names the submodules it resolves lazily in its TYPE_CHECKING block.
    import allauth.core.internal.deferred as deferred
    from booking_api.wsgi import TOKEN_MODULES

    source = Path(deferred.__file__).read_text()
    deferred_imports = {line.split()[1] for line in source.splitlines()
                        if line.strip().startswith("import ") and line.startswith("    import ")
                        and line.split()[1].startswith(("jwt", "cryptography."))}
    assert deferred_imports - {"jwt.exceptions"} <= set(TOKEN_MODULES)
