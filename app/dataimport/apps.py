from django.apps import AppConfig


class DataImportConfig(AppConfig):
    """Copying an existing PostgreSQL database into this app's (manage.py import_database)."""

    name = "dataimport"
    verbose_name = "Database import"
