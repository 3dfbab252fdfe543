"""WSGI entry point: ``gunicorn booking_api.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booking_api.settings")

application = get_wsgi_application()
