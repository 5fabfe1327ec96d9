"""Content negotiation for the API."""

from rest_framework.negotiation import DefaultContentNegotiation

# What machines send (or nothing): answered without parsing the header.
_ANY = "*/*"


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with the answer for the Accept headers an executor or
    a script sends (none, `*/*`, or exactly the first renderer's media type)
    found without parsing the header and ranking every renderer: a tenth of a
    small request's cost. Anything else, and `?format=`, go the full way."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", _ANY)
        if (
            renderers
            and not format_suffix
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            and accept in (_ANY, renderers[0].media_type)
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
