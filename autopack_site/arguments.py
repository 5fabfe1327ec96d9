"""Argument types shared by management commands (argparse turns a ValueError into
a usage error naming the flag)."""


def positive_int(value: str) -> int:
    """An integer of at least 1."""
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number
