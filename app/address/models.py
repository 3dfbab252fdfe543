from __future__ import annotations

from django.db import models


class Address(models.Model):
    """A validated postal address (see ``address.services.address_create``)."""

    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=12)
    country = models.CharField(max_length=2)

    class Meta:
        verbose_name_plural = "addresses"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(country__regex=r"^[A-Z]{2}$"), name="address_country_iso2"
            ),
            models.CheckConstraint(
                condition=~models.Q(line1="") & ~models.Q(city="") & ~models.Q(postal_code=""),
                name="address_required_parts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line1}, {self.postal_code} {self.city}, {self.country}"
