from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    """Checks that a restored database can serve the app (manage.py check_recovery)."""

    name = "recovery"
    verbose_name = "Database recovery checks"
