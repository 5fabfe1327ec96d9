"""docs/STAGING_ROLLOUT.md cannot drift from the code: every manage.py line parses."""

import re
import shlex
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

PLAYBOOK = Path(__file__).resolve().parents[2] / "docs" / "STAGING_ROLLOUT.md"
COMMAND_LINE = re.compile(r"(?:\.venv/bin/)?python manage\.py (.+)$")


def playbook_commands() -> list[list[str]]:
    commands = []
    for line in PLAYBOOK.read_text(encoding="utf-8").splitlines():
        match = COMMAND_LINE.search(line.strip())
        if match:
            # Placeholders such as <key> stand for one value each.
            commands.append(shlex.split(re.sub(r"<[^>]+>", "placeholder", match.group(1))))
    return commands


def test_playbook_names_commands():
    names = {command[0] for command in playbook_commands()}
    assert {"health_check", "smoke_check", "migrate", "sqlmigrate", "create_api_key"} <= names


@pytest.mark.parametrize("argv", playbook_commands(), ids=lambda argv: " ".join(argv))
def test_playbook_command_exists_and_accepts_its_flags(argv):
    name, *arguments = argv
    commands = get_commands()
    assert name in commands, f"playbook names unknown command {name!r}"
    command = load_command_class(commands[name], name)
    parser = command.create_parser("manage.py", name)
    # Django's parser raises CommandError (instead of exiting) on a bad flag here.
    options = parser.parse_args(arguments)
    assert options is not None
