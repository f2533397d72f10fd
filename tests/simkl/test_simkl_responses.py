"""One request at a time against the blueprint's recorded answers: not_found handling and the null library."""

from __future__ import annotations

import json
from pathlib import Path

import requests
import responses

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.model import DataType, Ids, Item, Kind, WatchlistEntry
from totalrecall.sources.base import ServiceContext
from totalrecall.sources.simkl import SimklService

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "simkl"
API = "https://api.simkl.test"


def _service(tmp_path: Path) -> SimklService:
    credentials = CredentialStore(tmp_path / "credentials.toml")
    credentials.set("simkl_access_token", "token-123")
    context = ServiceContext(
        name="simkl",
        settings={"client_id": "client-abc", "api_url": API, "status_mapping": {}},
        credentials=credentials,
        paths=Paths(tmp_path),
        session_factory=requests.Session,
        time_scale=0.001,
    )
    return SimklService(context)


def _fixture(name: str) -> object:
    return json.loads((FIXTURES / name).read_text())


@responses.activate
def test_documented_add_to_list_answer_excludes_the_not_found_title(tmp_path: Path) -> None:
    responses.get(f"{API}/sync/activities", json=_fixture("activities.json"))
    for block in ("movies", "shows", "anime"):
        responses.get(f"{API}/sync/all-items/{block}", body="null", content_type="application/json")
    responses.post(f"{API}/sync/add-to-list", json=_fixture("add-to-list-response.json"), status=200)
    service = _service(tmp_path)
    assert service.read(DataType.WATCHLIST) == []  # null: nothing listed
    terminator = WatchlistEntry(Item(Kind.MOVIE, Ids(imdb="tt0181852", tmdb=296, simkl=53536), "Terminator 3", 2003))
    unknown = WatchlistEntry(Item(Kind.MOVIE, Ids(imdb="tt0000222"), "Unknown", 1900))
    result = service.write(DataType.WATCHLIST, [terminator, unknown], [])
    assert result.added == (terminator,)
    assert [(item.entry, item.reason.split(":")[0]) for item in result.excluded] == [(unknown, "not_found")]
    sent = json.loads(responses.calls[-1].request.body)
    assert [movie["to"] for movie in sent["movies"]] == ["plantowatch", "plantowatch"]
    assert responses.calls[-1].request.headers["simkl-api-key"] == "client-abc"
    service.close()


@responses.activate
def test_a_412_client_id_failed_is_reported_as_the_client_id(tmp_path: Path) -> None:
    responses.get(
        f"{API}/sync/activities",
        json={"error": "client_id_failed", "code": 412, "message": "incorrect client_id"},
        status=412,
    )
    service = _service(tmp_path)
    try:
        service.read(DataType.RATINGS)
    except Exception as error:  # noqa: BLE001 - the message is what is checked
        message = str(error)
    else:
        raise AssertionError("a 412 must fail the read")
    assert message.startswith("simkl: client id rejected or request limit exceeded (client_id_failed: incorrect client_id)")
    assert "\n" not in message
