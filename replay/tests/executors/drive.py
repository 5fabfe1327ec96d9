"""Test executor: drives the run through this server's API with the demo simulator.

    python drive.py RUN_ID API_URL [RECOVER_RATE] [RECORD_FILE]

RECORD_FILE, when given, gets a line `start|end <run_id> <time>`, for tests of how
many executors ran at once. With REPORT_SHA set, the executor first reports that it
runs that commit (as one on other code would).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from autopack_site.ops.http import JsonClient
from replay.simulator import simulate_run


def record(path: str, what: str, run_id: str) -> None:
    if path:
        with Path(path).open("a", encoding="utf-8") as stream:
            stream.write(f"{what} {run_id} {time.time()}\n")


run_id, api_url = sys.argv[1], sys.argv[2]
rate = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
record_file = sys.argv[4] if len(sys.argv) > 4 else ""
record(record_file, "start", run_id)
time.sleep(float(os.environ.get("DRIVE_DELAY", "0")))
client = JsonClient(api_url, os.environ["AUTOPACK_API_KEY"], timeout=30)
if os.environ.get("REPORT_SHA"):
    reply = client.request(
        "PATCH", f"/api/v1/runs/{run_id}/", {"git_commit_sha": os.environ["REPORT_SHA"]}
    )
    assert reply.status == 200, reply
result = simulate_run(client, run_id, seed=7, recover_rate=rate)
sys.stdout.write(f"{run_id} recovered={result.recovered}\n")
record(record_file, "end", run_id)
