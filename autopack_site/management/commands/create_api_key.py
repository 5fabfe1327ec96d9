"""Create an API key for a client; the key is printed once and stored only hashed."""

from django.core.management.base import BaseCommand, CommandError
from rest_framework_api_key.models import APIKey

NAME_MAX_LENGTH = APIKey._meta.get_field("name").max_length


class Command(BaseCommand):
    help = "Create an API key named NAME and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who the key is for, e.g. 'executor-staging'.")

    def handle(self, *args, name: str, **options):
        name = name.strip()
        if not name:
            raise CommandError("NAME must not be empty; pass who the key is for.")
        if len(name) > NAME_MAX_LENGTH:
            raise CommandError(
                f"NAME is longer than {NAME_MAX_LENGTH} characters; pass a shorter name."
            )
        _, key = APIKey.objects.create_key(name=name)
        # The key itself on stdout alone, so scripts can capture it.
        self.stdout.write(key)
        self.stderr.write(f"Created API key {name!r}; it will not be shown again.")
