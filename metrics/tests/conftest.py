import pytest

from metrics.tests.contract import body


@pytest.fixture
def contract_run(authed_client) -> dict:
    """The contract's run (metrics/tests/contract/run_start.json), started as the
    executor starts it; its executor representation."""
    response = authed_client.post("/runs/start", body("run_start"), format="json")
    assert response.status_code == 201, response.json()
    return response.json()
