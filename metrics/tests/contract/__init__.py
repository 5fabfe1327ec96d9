"""The executor's request bodies as JSON fixtures, written from its contract
(docs/EXECUTOR_API.md), and the run and phases they name."""

import json
from pathlib import Path

FOLDER = Path(__file__).parent
RUN = "contract-run"
P0, P1, P2 = "contract-p0-builder", "contract-p1-builder", "contract-p2-docs"


def body(name: str) -> dict:
    """The request body `<name>.json`, fresh (callers may change it)."""
    return json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))
