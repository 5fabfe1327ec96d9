"""Test executor whose behaviour the run id names (its first word, before `-`):

    python misbehave.py RUN_ID API_URL PID_DIR

ok: drives the run to success; exit3: exits 3; hang: sleeps with a child, for the
timeout to kill both (their pids go to PID_DIR/<run_id>); abort: dies by a signal;
idle: exits 0 having done nothing.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from autopack_site.ops.http import JsonClient
from replay.simulator import simulate_run

run_id, api_url, pid_dir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
how = run_id.split("-", 1)[0]
if how == "ok":
    simulate_run(JsonClient(api_url, os.environ["AUTOPACK_API_KEY"]), run_id, recover_rate=1.0)
elif how == "exit3":
    sys.stdout.write(f"giving up on {run_id}\n")
    sys.exit(3)
elif how == "hang":
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    pid_dir.mkdir(parents=True, exist_ok=True)
    (pid_dir / run_id).write_text(f"{os.getpid()} {child.pid}", encoding="utf-8")
    time.sleep(600)
elif how == "abort":
    os.abort()
