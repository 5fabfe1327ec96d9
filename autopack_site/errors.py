"""Domain errors raised by services; the API maps each to an HTTP status."""


class DomainError(Exception):
    """A business rule refused the operation."""

    status_code = 400
    code = "invalid"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class ConflictError(DomainError):
    status_code = 409
    code = "conflict"


class FeatureDisabledError(DomainError):
    """A kill switch is OFF: the request was not processed and nothing was stored."""

    status_code = 503
    code = "feature_disabled"
