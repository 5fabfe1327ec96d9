import pytest

from replay import runner


@pytest.fixture(autouse=True)
def _background_threads_end_with_their_test():
    """Campaigns and executions started in threads finish before the test's database
    goes (their executors talk to the test's live server)."""
    yield
    runner.join_background()
