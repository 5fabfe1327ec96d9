import pytest

from replay import runner
from replay.tests.helpers import DRIVE


@pytest.fixture(autouse=True)
def _background_threads_end_with_their_test():
    """Campaigns and executions started in threads finish before the test's database
    goes (their executors talk to the test's live server)."""
    yield
    runner.join_background()


@pytest.fixture
def replay_settings(settings, live_server, phase6_on, tmp_path):
    """Replays reporting to a live server of this project with Phase 6 on, executed by
    the driving test executor (recovering), reports in a temporary folder."""
    settings.AUTOPACK_API_URL = live_server.url
    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path / "results"
    settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE + " 1.0"
    settings.AUTOPACK_API_POLL_SECONDS = 0.2
    return settings
