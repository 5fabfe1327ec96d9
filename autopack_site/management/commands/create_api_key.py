"""Create an API key for a client with a scope; the key is printed once and stored
only hashed."""

from django.core.management.base import BaseCommand, CommandError
from rest_framework_api_key.models import APIKey

from autopack_site.api.keys import api_key_create
from autopack_site.api.scopes import INGEST, SCOPES

NAME_MAX_LENGTH = APIKey._meta.get_field("name").max_length


class Command(BaseCommand):
    help = (
        "Create an API key named NAME with a scope and print it once (only its hash is "
        "stored). Scopes: read (reads only), ingest (what an executor needs; the default), "
        "admin (everything, deleting and deciding included)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who the key is for, e.g. 'executor-staging'.")
        parser.add_argument(
            "--scope", choices=SCOPES, default=INGEST, help="What the key may do (default ingest)."
        )

    def handle(self, *args, name: str, scope: str, **options):
        name = name.strip()
        if not name:
            raise CommandError("NAME must not be empty; pass who the key is for.")
        if len(name) > NAME_MAX_LENGTH:
            raise CommandError(
                f"NAME is longer than {NAME_MAX_LENGTH} characters; pass a shorter name."
            )
        _, key = api_key_create(name=name, scope=scope)
        # The key itself on stdout alone, so scripts can capture it.
        self.stdout.write(key)
        self.stderr.write(f"Created {scope} API key {name!r}; it will not be shown again.")
