"""The registry of kill switches: every feature flag the service knows about.

A switch is ON only when its environment variable is exactly ``"1"``; unset,
empty, ``0``, ``true``, ``yes`` or anything else mean OFF, so a typo can never
turn a feature on. Values are read on every call (never cached at import), so
an operator flips a switch by changing the environment and restarting workers.
"""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class KillSwitch:
    env_var: str
    key: str  # Short name used in health output and Run.feature_flags.
    gates: str


PHASE6_METRICS = "AUTOPACK_ENABLE_PHASE6_METRICS"
CONSOLIDATED_METRICS = "AUTOPACK_ENABLE_CONSOLIDATED_METRICS"

REGISTRY: dict[str, KillSwitch] = {
    switch.env_var: switch
    for switch in (
        KillSwitch(
            env_var=PHASE6_METRICS,
            key="phase6_metrics",
            gates="Phase 6 token-ledger ingestion (POST /api/v1/runs/{id}/metrics/).",
        ),
        KillSwitch(
            env_var=CONSOLIDATED_METRICS,
            key="consolidated_metrics",
            gates="Consolidated token metrics (GET …/consolidated-metrics).",
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


def snapshot() -> dict[str, bool]:
    """Return every switch's current state keyed by its short name."""
    return {switch.key: is_enabled(name) for name, switch in REGISTRY.items()}
