"""Domain errors raised by services; the API maps each to an HTTP status."""

from django.core.exceptions import ValidationError
from django.db.models import ProtectedError, RestrictedError


class DomainError(Exception):
    """A business rule refused the operation; `fields` names the inputs it concerns."""

    status_code = 400
    code = "invalid"

    def __init__(self, detail: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.fields = fields

    @classmethod
    def on_field(cls, field: str, message: str) -> "DomainError":
        """A refusal about one input: `message` is the detail and the field's error."""
        return cls(message, fields={field: [message]})

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> "DomainError":
        """The same refusal, keyed by field as a service raised it."""
        fields = error.message_dict if hasattr(error, "error_dict") else None
        return cls(" ".join(error.messages), fields=fields)


class ConflictError(DomainError):
    status_code = 409
    code = "conflict"


class NotFoundError(DomainError):
    """Something the request names (in its body, too) does not exist."""

    status_code = 404
    code = "not_found"


class FeatureDisabledError(DomainError):
    """A kill switch is OFF: the request was not processed and nothing was stored."""

    status_code = 503
    code = "feature_disabled"


def protected_summary(exc: ProtectedError | RestrictedError) -> str:
    """'still referenced by 2 A/B test results' — counts by model, no row contents."""
    counts: dict[str, int] = {}
    for obj in exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects:
        name = str(obj._meta.verbose_name_plural)
        counts[name] = counts.get(name, 0) + 1
    return "still referenced by " + ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
