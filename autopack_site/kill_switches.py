"""The registry of kill switches: every feature flag the service knows about.

A switch is ON only when its environment variable is exactly ``"1"``; unset,
empty, ``0``, ``true``, ``yes`` or anything else mean OFF, so a typo can never
turn a feature on. Values are read on every call (never cached at import), so
an operator flips a switch by changing the environment and restarting workers.
"""

import os
from dataclasses import dataclass

from autopack_site.errors import FeatureDisabledError


@dataclass(frozen=True)
class KillSwitch:
    env_var: str
    key: str  # Short name used in health output and Run.feature_flags.
    gates: str
    refusal: str  # What a refused request is told (503), naming the variable.


PHASE6_METRICS = "AUTOPACK_ENABLE_PHASE6_METRICS"
CONSOLIDATED_METRICS = "AUTOPACK_ENABLE_CONSOLIDATED_METRICS"

REGISTRY: dict[str, KillSwitch] = {
    switch.env_var: switch
    for switch in (
        KillSwitch(
            env_var=PHASE6_METRICS,
            key="phase6_metrics",
            gates="Phase 6 token-ledger ingestion (POST /api/v1/runs/{id}/metrics/).",
            refusal=(
                "Phase 6 metrics ingestion is disabled; nothing was stored. "
                f"Set {PHASE6_METRICS}=1 on the server to enable it."
            ),
        ),
        KillSwitch(
            env_var=CONSOLIDATED_METRICS,
            key="consolidated_metrics",
            gates="Consolidated token metrics (GET …/consolidated-metrics).",
            refusal=(
                "Consolidated metrics are disabled. "
                f"Set {CONSOLIDATED_METRICS}=1 on the server to enable them."
            ),
        ),
    )
}


class UnknownKillSwitch(KeyError):
    """Raised when code asks about a switch the registry does not declare."""


def get_switch(env_var: str) -> KillSwitch:
    try:
        return REGISTRY[env_var]
    except KeyError:
        raise UnknownKillSwitch(
            f"{env_var!r} is not a declared kill switch; declare it in "
            "autopack_site.kill_switches.REGISTRY"
        ) from None


def is_enabled(env_var: str) -> bool:
    """Return whether the switch is ON (its variable is exactly "1")."""
    get_switch(env_var)
    return os.environ.get(env_var) == "1"


def require(env_var: str) -> None:
    """Refuse the request (FeatureDisabledError, a 503) unless the switch is ON.

    Call it before anything else a request does: a disabled feature refuses before
    validation, and nothing is stored."""
    if not is_enabled(env_var):
        raise FeatureDisabledError(get_switch(env_var).refusal)


def snapshot() -> dict[str, bool]:
    """Return every switch's current state keyed by its short name."""
    return {switch.key: is_enabled(name) for name, switch in REGISTRY.items()}
