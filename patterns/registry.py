"""The detectors pattern_expansion generated (and people finished), loaded by file path.

    detect_all("error: patch failed: src/a.py:12", {}) -> ["error_patch_failed_1a2b3c4d"]
    mitigate("error_patch_failed_1a2b3c4d", "phase-1", {}) -> {"success": False, ...}

A detector is code a person may have taken over and edited: one that fails to load,
or raises while detecting, is logged and left out, so it cannot take matching down
for every other pattern.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from django.conf import settings

logger = logging.getLogger(__name__)


class UnknownPatternError(KeyError):
    pass


class DetectorError(RuntimeError):
    """A detector's own code raised (the original exception is the cause)."""


@dataclass(frozen=True)
class _Loaded:
    detectors: dict[str, ModuleType]
    # File name -> why it was left out ("SyntaxError: …", "no detect()/mitigate()").
    errors: dict[str, str] = field(default_factory=dict)


def detectors_dir() -> Path:
    return Path(
        getattr(
            settings, "PATTERN_DETECTORS_DIR", Path(settings.BASE_DIR) / "patterns" / "detectors"
        )
    )


def backlog_dir() -> Path:
    """Where `pattern_expansion --generate-code` writes backlog entries by default."""
    return Path(
        getattr(settings, "PATTERN_BACKLOG_DIR", Path(settings.BASE_DIR) / "docs" / "backlog")
    )


def generated_files(pattern_id: str) -> dict[str, Path]:
    """The pattern's generated detector and backlog entry, where they exist (the
    default directories; names as patterns.codegen writes them)."""
    candidates = {
        "detector": detectors_dir() / f"pattern_{pattern_id}.py",
        "backlog": backlog_dir() / f"PATTERN_{pattern_id}.md",
    }
    return {kind: path for kind, path in candidates.items() if path.is_file()}


@lru_cache(maxsize=8)
def _load(directory: Path) -> _Loaded:
    loaded = _Loaded(detectors={})
    for path in sorted(directory.glob("pattern_*.py")):
        pattern_id = path.stem.removeprefix("pattern_")
        spec = importlib.util.spec_from_file_location(f"autopack_detectors.{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            logger.exception("Detector %s failed to load; it is left out.", path)
            loaded.errors[path.name] = f"{type(error).__name__}: {error}"
            continue
        if callable(getattr(module, "detect", None)) and callable(
            getattr(module, "mitigate", None)
        ):
            loaded.detectors[getattr(module, "PATTERN_ID", pattern_id)] = module
        else:
            loaded.errors[path.name] = "no detect() and mitigate() functions"
    return loaded


def _loaded(directory: Path | None) -> _Loaded:
    return _load((directory or detectors_dir()).resolve())


def detectors(directory: Path | None = None) -> dict[str, ModuleType]:
    """Pattern id -> detector module, for every loadable `pattern_*.py` in the directory."""
    return _loaded(directory).detectors


def load_errors(directory: Path | None = None) -> dict[str, str]:
    """File name -> why that detector was left out."""
    return _loaded(directory).errors


def reload() -> None:
    """Forget loaded detectors: the next lookup reads the directory again (after
    `services.pattern_code_generate` wrote new ones, and in tests)."""
    _load.cache_clear()


def detect_all(
    message: str, context: dict | None = None, *, directory: Path | None = None
) -> list[str]:
    """Ids of the patterns whose detector recognises the message, sorted. A detector
    that raises is logged and counts as not matching."""
    matched = []
    for pattern_id, module in detectors(directory).items():
        try:
            if module.detect(message, context or {}):
                matched.append(pattern_id)
        except Exception:
            logger.exception("Detector %s raised; counted as not matching.", pattern_id)
    return sorted(matched)


def mitigate(
    pattern_id: str, phase_id: str, context: dict | None = None, *, directory: Path | None = None
) -> dict:
    module = detectors(directory).get(pattern_id)
    if module is None:
        raise UnknownPatternError(pattern_id)
    try:
        return module.mitigate(phase_id, context or {})
    except Exception as error:
        raise DetectorError(f"detector {pattern_id} raised in mitigate()") from error
