"""A small JSON-over-HTTP client on the standard library alone, so the smoke check and
the demo executor run anywhere the project does (and without Django)."""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: object
    elapsed_ms: float


class JsonClient:
    """JSON over HTTP with an API key, standard library only (smoke checks, executors)."""

    def __init__(
        self, base_url: str, api_key: str | None, timeout: float = 10.0, *, bearer: bool = False
    ):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.bearer = bearer  # send the key as Authorization: Bearer (Autopack's clients)

    def request(self, method: str, path: str, body: object = None) -> HttpReply:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.api_key and self.bearer:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        elif self.api_key:
            request.add_header("X-API-Key", self.api_key)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            parsed = None
        return HttpReply(status, parsed, elapsed)
