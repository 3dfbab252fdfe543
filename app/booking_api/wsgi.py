"""WSGI entry point: ``gunicorn booking_api.wsgi:application``."""

import importlib
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booking_api.settings")

# allauth imports jwt and cryptography lazily, on the first token it handles. With several
# threads per worker, two first requests at once race inside that deferred import and one fails
# ("cannot access submodule 'ciphers'", HTTP 500), after every deploy. The web process handles
# tokens on nearly every request, so it pays the import once, here, before any thread runs.
TOKEN_MODULES = (
    "jwt",
    "jwt.algorithms",
    "cryptography.hazmat.backends",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.primitives.ciphers",
    "cryptography.hazmat.primitives.serialization",
    "cryptography.x509",
)
for _module in TOKEN_MODULES:
    importlib.import_module(_module)

application = get_wsgi_application()
