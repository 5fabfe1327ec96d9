"""What the replay tests share: the test executors and how to read their records."""

from pathlib import Path

EXECUTORS = Path(__file__).resolve().parent / "executors"
# The executor that drives a run through this server's API; append the recover rate.
DRIVE = f"python {EXECUTORS / 'drive.py'} {{run_id}} {{api_url}}"


def peak_concurrency(record: Path) -> int:
    """The most executors running at once, from drive.py's start/end lines."""
    events = sorted(
        (float(moment), +1 if what == "start" else -1)
        for what, _, moment in (
            line.split() for line in record.read_text(encoding="utf-8").splitlines()
        )
    )
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak
