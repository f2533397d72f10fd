"""Issue 12 low item: response size and page count are capped; deep JSON is a named error, not a crash."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from security.helpers import LocalServer
from security.report import Findings

from totalrecall import http
from totalrecall.config.credentials import CredentialStore
from totalrecall.errors import SourceError
from totalrecall.http import HttpClient
from totalrecall.sources.trakt.api import TraktApi


@pytest.fixture
def server() -> Iterator[LocalServer]:
    made = LocalServer({
        "/big": (200, {}, b"[" + b"1," * 4000 + b"1]"),
        "/deep": (200, {}, b"[" * 100_000 + b"]" * 100_000),
        "/sync/watchlist": (200, {"X-Pagination-Page-Count": "1000000"}, json.dumps([{"x": 1}]).encode()),
    })
    yield made
    made.stop()


def test_answers_over_the_caps_are_named_errors(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, findings: Findings,
) -> None:
    client = HttpClient("svc", server.url, requests.Session(), max_response_bytes=1000, max_retries=0)
    with pytest.raises(SourceError, match=r"svc: answered GET /big with 8,\d+ bytes, over the 1,000-byte cap"):
        client.get_json("/big")
    roomy = HttpClient("svc", server.url, requests.Session(), max_retries=0)
    with pytest.raises(SourceError, match="nested too deep"):
        roomy.get_json("/deep")

    monkeypatch.setattr(http, "MAX_PAGES", 3)
    credentials = CredentialStore(tmp_path / "credentials.toml")
    credentials.update({"trakt_access_token": "t" * 20, "trakt_refresh_token": "r" * 20,
                        "trakt_token_expires_at": "2099-01-01T00:00:00Z"})
    settings = {"client_id": "client-id-0123456789", "client_secret": "secret-0123456789", "api_url": server.url}
    api = TraktApi("trakt", settings, credentials, requests.Session(), time_scale=0.01)
    with pytest.raises(SourceError, match="more than 3 pages at /sync/watchlist"):
        list(api.pages("/sync/watchlist"))
    assert len(server.headers_at("/sync/watchlist")) == 3
    findings.record(
        "response_caps",
        "each a one-line SourceError naming the service and the path: the answer's size against the cap, "
        "\"JSON nested too deep to read\", and \"more than N pages\" after N requests",
    )


class _EndlessAnswer(BaseHTTPRequestHandler):
    """Answers 200 with a JSON list that never ends and no Content-Length, counting what it got to send."""

    protocol_version = "HTTP/1.0"  # the body ends when the connection does: nothing announces its size
    sent = 0
    limit = 256 * 1024 * 1024  # far more than any client here would take

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        chunk = b"[" + b"1," * 32 * 1024
        try:
            while type(self).sent < self.limit:
                self.wfile.write(chunk)
                type(self).sent += len(chunk)
        except OSError:
            pass  # the client stopped reading and closed: what this fake is here to show

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
        pass


def test_an_answer_is_cut_off_at_the_cap_while_it_is_read(findings: Findings) -> None:
    """The size cap holds while the body streams in: reading stops past the cap instead of taking it all."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EndlessAnswer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        client = HttpClient("svc", url, requests.Session(), max_response_bytes=100_000, max_retries=0)
        with pytest.raises(SourceError, match=r"svc: answered GET /list with more than 100,000 bytes, over the "
                                              r"100,000-byte cap"):
            client.get_json("/list")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    # What the server managed to send before the client hung up is bounded by the cap plus the sockets'
    # buffers; a client that read the whole answer before checking would have taken all 256 MB.
    assert _EndlessAnswer.sent < 32 * 1024 * 1024, _EndlessAnswer.sent
    findings.record(
        "response_cap_streaming",
        # The bound, not the figure: how much the sockets' buffers took differs from run to run.
        "the client stopped reading past the 100,000-byte cap and hung up; the server got less than 32 MB out "
        "(the rest of its 256 MB never left it)",
    )
