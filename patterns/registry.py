"""The detectors pattern_expansion generated (and people finished), loaded by file path.

    detect_all("error: patch failed: src/a.py:12", {}) -> ["error_patch_failed_1a2b3c4d"]
    mitigate("error_patch_failed_1a2b3c4d", "phase-1", {}) -> {"success": False, ...}
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from django.conf import settings


class UnknownPatternError(KeyError):
    pass


def detectors_dir() -> Path:
    return Path(getattr(settings, "PATTERN_DETECTORS_DIR", Path(settings.BASE_DIR) / "patterns"
                        / "detectors"))


@lru_cache(maxsize=8)
def _load(directory: Path) -> dict[str, ModuleType]:
    detectors = {}
    for path in sorted(directory.glob("pattern_*.py")):
        pattern_id = path.stem.removeprefix("pattern_")
        spec = importlib.util.spec_from_file_location(f"autopack_detectors.{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if callable(getattr(module, "detect", None)) and callable(getattr(module, "mitigate", None)):
            detectors[getattr(module, "PATTERN_ID", pattern_id)] = module
    return detectors


def detectors(directory: Path | None = None) -> dict[str, ModuleType]:
    """Pattern id -> detector module, for every `pattern_*.py` in the directory."""
    return _load((directory or detectors_dir()).resolve())


def reload() -> None:
    """Forget loaded detectors (after the command wrote new ones)."""
    _load.cache_clear()


def detect_all(message: str, context: dict | None = None, *,
               directory: Path | None = None) -> list[str]:
    """Ids of the patterns whose detector recognises the message, sorted."""
    return sorted(pattern_id for pattern_id, module in detectors(directory).items()
                  if module.detect(message, context or {}))


def mitigate(pattern_id: str, phase_id: str, context: dict | None = None, *,
             directory: Path | None = None) -> dict:
    module = detectors(directory).get(pattern_id)
    if module is None:
        raise UnknownPatternError(pattern_id)
    return module.mitigate(phase_id, context or {})
