"""Request parsers shared by every app's API."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, where a body nested too deeply is a 400 like any bad JSON.

    The json module raises RecursionError there, which is not the ValueError DRF
    turns into a ParseError: `[[[[…` a hundred thousand deep was a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
