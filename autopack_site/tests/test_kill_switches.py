"""The kill-switch registry: ON only for exactly "1", read at call time."""

import pytest

from autopack_site import kill_switches
from autopack_site.errors import FeatureDisabledError


def test_switches_default_off_when_unset():
    assert kill_switches.snapshot() == {"phase6_metrics": False, "consolidated_metrics": False}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1", True),
        ("", False),
        ("0", False),
        ("true", False),
        ("yes", False),
        ("on", False),
        (" 1", False),
        ("1 ", False),
        ("01", False),
        ("TRUE", False),
    ],
)
@pytest.mark.parametrize("name", sorted(kill_switches.REGISTRY))
def test_only_exactly_one_turns_a_switch_on(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    assert kill_switches.is_enabled(name) is expected


def test_switches_are_read_at_call_time(monkeypatch):
    name = kill_switches.PHASE6_METRICS
    assert not kill_switches.is_enabled(name)
    monkeypatch.setenv(name, "1")
    assert kill_switches.is_enabled(name)
    monkeypatch.setenv(name, "0")
    assert not kill_switches.is_enabled(name)


def test_undeclared_switch_is_an_error():
    with pytest.raises(kill_switches.UnknownKillSwitch, match="AUTOPACK_ENABLE_TYPO"):
        kill_switches.is_enabled("AUTOPACK_ENABLE_TYPO")


def test_registry_describes_what_each_switch_gates():
    assert set(kill_switches.REGISTRY) == {
        "AUTOPACK_ENABLE_PHASE6_METRICS",
        "AUTOPACK_ENABLE_CONSOLIDATED_METRICS",
    }
    assert all(switch.gates for switch in kill_switches.REGISTRY.values())


@pytest.mark.parametrize("name", sorted(kill_switches.REGISTRY))
def test_require_refuses_naming_the_variable_until_the_switch_is_on(monkeypatch, name):
    with pytest.raises(FeatureDisabledError) as refused:
        kill_switches.require(name)
    assert f"Set {name}=1" in refused.value.detail and refused.value.status_code == 503
    monkeypatch.setenv(name, "1")
    assert kill_switches.require(name) is None


def test_require_knows_only_declared_switches():
    with pytest.raises(kill_switches.UnknownKillSwitch):
        kill_switches.require("AUTOPACK_ENABLE_NOTHING")
