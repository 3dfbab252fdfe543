"""The flag of the staff booking alerts (appointment/services.py), created off.

Off by keeping every rule empty rather than with ``everyone=False``: ``everyone=False`` would
override named salons and users, so the first rollout step (naming one salon) would take two
changes. ``superusers`` is off too, so that off means off for everybody.
"""

from django.db import migrations

NAME = "staff_booking_sms"


def create(apps, schema_editor):
    Flag = apps.get_model("flag", "Flag")
    Flag.objects.get_or_create(
        name=NAME,
        defaults={
            "everyone": None,
            "percent": None,
            "superusers": False,
            "note": "SMS to the staff member when one of their appointments is booked, moved "
            "or cancelled by someone else (appointment/services.py). Evaluated for the staff "
            "member and the salon: roll out by named salons, then percent (of salons).",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("flag", "Flag").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("flag", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
