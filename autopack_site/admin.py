"""Admin for site-wide records: API key scopes."""

from django.contrib import admin

from autopack_site.models import ApiKeyScope


@admin.register(ApiKeyScope)
class ApiKeyScopeAdmin(admin.ModelAdmin):
    """A key's scope (a key listed under API keys without one is an admin key)."""

    list_display = ["key", "scope"]
    list_filter = ["scope"]
    search_fields = ["key__name", "key__prefix"]
    list_select_related = ["key"]
    raw_id_fields = ["key"]
