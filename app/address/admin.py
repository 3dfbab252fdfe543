from django.contrib import admin

from address.models import Address

admin.site.register(Address)
