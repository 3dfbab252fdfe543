"""Container health check: exit 0 when this container's gunicorn answers /health/ with 200.

Used by the ECS task definition (``python -m booking_api.healthcheck``); it asks the server in
its own network namespace, on the port of ``GUNICORN_BIND`` (default 8000), with the standard
library only (the image has no curl).
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[1]
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
