"""Simkl end to end through the Interpreter over real HTTP: round trips, statuses, incremental reads, faults."""

from __future__ import annotations

import json
from collections.abc import Callable

from simkl_helpers import (
    ANGRY_MEN,
    BREAKING_BAD,
    CLIENT_ID,
    DARK_KNIGHT,
    GODFATHER,
    PULP,
    THE_WIRE,
    TOKEN,
    World,
    bb_episode,
    reads,
    writes,
)

from totalrecall.sandbox.fake_simkl import FakeSimkl

T_SHAWSHANK = "2026-03-10T20:05:00Z"
T_ANGRY_MEN = "2026-02-11T19:30:00Z"
T_BB_2 = "2026-01-21T21:00:00Z"


def _seed(fake: FakeSimkl) -> None:
    fake.put(
        [
            {"type": "movies", "imdb": "tt0068646", "status": "plantowatch", "added_to_watchlist_at": "2026-01-02T09:30:00Z"},
            {"type": "movies", "imdb": "tt0111161", "status": "completed", "last_watched_at": T_SHAWSHANK,
             "user_rating": 10, "user_rated_at": "2026-03-10T22:00:00Z"},
            {"type": "movies", "imdb": "tt0468569", "status": "dropped"},
            {"type": "shows", "imdb": "tt0903747", "status": "watching",
             "episodes": [{"season": 1, "number": 1, "watched_at": "2026-01-20T21:10:00Z"}]},
            {"type": "shows", "imdb": "tt0944947", "status": "hold"},
            {"type": "shows", "imdb": "tt0108778", "status": "dropped"},
        ]
    )


def _seed_shelf(world: World) -> None:
    world.put("watchlist", [{"item": PULP, "added_at": "2026-02-14T09:00:00Z"}, {"item": THE_WIRE}])
    world.put("ratings", [{"item": ANGRY_MEN, "value": 8, "rated_at": "2026-02-11T21:00:00Z"},
                          {"item": BREAKING_BAD, "value": 9, "rated_at": "2026-01-22T10:00:00Z"}])
    world.put("watch_history", [{"item": ANGRY_MEN, "watched_at": T_ANGRY_MEN},
                                {"item": bb_episode(1, 2), "watched_at": T_BB_2}])


def _imdb_ids(entries: list[dict]) -> set[str]:
    return {entry["item"].get("ids", {}).get("imdb") or entry["item"]["show_ids"]["imdb"] for entry in entries}


def test_round_trip_of_watchlist_ratings_and_history(world: Callable[..., World], fake: FakeSimkl) -> None:
    _seed(fake)
    w = world()
    _seed_shelf(w)
    report = w.run()
    assert not report.failed, report.failed

    # files -> Simkl: new watchlist items go to plan to watch, ratings and plays land with their times.
    assert fake.status_of("movie", "imdb", "tt0110912") == "plantowatch"
    assert fake.status_of("show", "imdb", "tt0306414") == "plantowatch"
    angry = fake.record_of("movie", "imdb", "tt0050083")
    assert angry is not None and angry["user_rating"] == 8 and angry["last_watched_at"] == T_ANGRY_MEN
    assert angry["status"] == "completed"
    bb = fake.record_of("show", "imdb", "tt0903747")
    assert bb is not None and bb["user_rating"] == 9 and bb["episodes"]["1x2"] == T_BB_2

    # Simkl -> files: plan to watch is the watchlist (status kept), completed movies and episodes are plays.
    watchlist = w.get("watchlist")
    assert _imdb_ids(watchlist) == {"tt0068646", "tt0110912", "tt0306414"}
    collected = json.loads((w.base / "data/cache/collect/simkl/watchlist.json").read_text())["entries"]
    assert {e["item"]["ids"]["imdb"]: e["status"] for e in collected} == {"tt0068646": "plantowatch"}
    ratings = {entry["item"]["ids"]["imdb"]: entry["value"] for entry in w.get("ratings")}
    assert ratings == {"tt0111161": 10, "tt0050083": 8, "tt0903747": 9}
    plays = {(e["item"].get("ids", {}).get("imdb") or e["item"]["show_ids"]["imdb"], e["item"].get("episode"), e["watched_at"])
             for e in w.get("watch_history")}
    assert ("tt0111161", None, T_SHAWSHANK) in plays
    assert ("tt0903747", 1, "2026-01-20T21:10:00Z") in plays
    assert len(plays) == 4


def test_statuses_survive_a_round_trip_unchanged(world: Callable[..., World], fake: FakeSimkl) -> None:
    _seed(fake)
    w = world()
    # The shelf wants Dark Knight (dropped on Simkl) on the watchlist: Simkl keeps it dropped.
    w.put("watchlist", [{"item": DARK_KNIGHT, "added_at": "2026-02-01T10:00:00Z"}, {"item": GODFATHER}])
    w.put("watch_history", [{"item": bb_episode(1, 3), "watched_at": "2026-01-23T21:00:00Z"}])
    before = {("movie", "tt0468569"): "dropped", ("show", "tt0944947"): "hold", ("show", "tt0108778"): "dropped",
              ("show", "tt0903747"): "watching", ("movie", "tt0068646"): "plantowatch"}
    for _ in range(2):
        report = w.run()
        assert not report.failed, report.failed
        for (kind, imdb), status in before.items():
            assert fake.status_of(kind, "imdb", imdb) == status, imdb
    reasons = [item["reason"] for item in w.excluded().get("watchlist", [])]
    assert any(reason.startswith("kept_status") and "dropped" in reason for reason in reasons) or not reasons
    # Watching, on hold and dropped titles are nobody's watchlist entries elsewhere.
    assert _imdb_ids(w.get("watchlist")) == {"tt0468569", "tt0068646"}
    assert "tt0944947" not in _imdb_ids(w.get("watchlist"))
    # A watch recorded on a watching show keeps it watching (two of three episodes seen).
    assert fake.record_of("show", "imdb", "tt0903747")["episodes"]["1x3"] == "2026-01-23T21:00:00Z"


def test_dropped_item_wanted_on_the_watchlist_is_excluded_with_the_reason(world: Callable[..., World], fake: FakeSimkl) -> None:
    _seed(fake)
    w = world()
    w.put("watchlist", [{"item": DARK_KNIGHT, "added_at": "2026-02-01T10:00:00Z"}])
    w.run()
    reasons = [item["reason"] for item in w.excluded()["watchlist"]]
    assert len(reasons) == 1 and reasons[0].startswith("kept_status") and "'dropped'" in reasons[0]
    assert fake.status_of("movie", "imdb", "tt0468569") == "dropped"


def test_second_sync_writes_nothing_and_an_unchanged_library_costs_one_call(
    world: Callable[..., World], fake: FakeSimkl
) -> None:
    _seed(fake)
    w = world()
    _seed_shelf(w)
    first = w.run()
    assert not first.failed and writes(fake)

    fake.clear_log()
    second = w.run()
    assert not second.failed, second.failed
    assert writes(fake) == []
    assert all(plan.is_empty for plan in second.plans)
    assert reads(fake) == ["GET /sync/activities"]

    fake.clear_log()
    w.run()
    assert reads(fake) == ["GET /sync/activities"] and writes(fake) == []


def test_a_change_on_simkl_is_read_with_date_from_and_merged(world: Callable[..., World], fake: FakeSimkl) -> None:
    _seed(fake)
    w = world()
    w.run()
    fake.put([{"type": "movies", "imdb": "tt0816692", "status": "plantowatch", "added_to_watchlist_at": "2026-04-01T10:00:00Z"}])
    fake.clear_log()
    report = w.run()
    assert not report.failed
    delta = [r for r in fake.requests if r.path.startswith("/sync/all-items")]
    assert [r.path for r in delta] == ["/sync/all-items/movies"]
    assert delta[0].query.get("date_from") and delta[0].query["extended"] == ["full"]
    assert "tt0816692" in _imdb_ids(w.get("watchlist"))
    assert "tt0068646" in _imdb_ids(w.get("watchlist"))  # the merged snapshot kept the rest

    # A removal on Simkl propagates to the shelf, found the way the blueprint asks: a date_from delta and
    # the simkl ids still listed (extended=simkl_ids_only), never a full re-read with the heavy options.
    fake.put([{"type": "movies", "imdb": "tt0816692", "status": None}])
    fake.clear_log()
    w.run()
    reads = [r for r in fake.requests if r.path.startswith("/sync/all-items")]
    assert [(r.path, r.query.get("extended"), bool(r.query.get("date_from"))) for r in reads] == [
        ("/sync/all-items/movies", ["full"], True), ("/sync/all-items/movies", ["simkl_ids_only"], False)]
    assert "tt0816692" not in _imdb_ids(w.get("watchlist"))


def test_a_rating_changed_or_deleted_on_simkl_is_read_from_sync_ratings(world: Callable[..., World], fake: FakeSimkl) -> None:
    _seed(fake)
    w = world()
    w.run()
    assert {"tt0111161": 10}.items() <= {e["item"]["ids"].get("imdb"): e["value"] for e in w.get("ratings")}.items()
    fake.put([{"type": "movies", "imdb": "tt0816692", "status": "completed", "user_rating": 7,
               "user_rated_at": "2026-04-01T10:00:00Z"}])
    with fake.lock:  # Shawshank's rating deleted on simkl.com, and not surfacing in an all-items delta
        record = fake.state["library"]["movies"][str(fake.catalogue.get("imdb", "tt0111161", "movie").ids.simkl)]
        stamp = fake._stamp()
        record.update(user_rating=None, user_rated_at=None, rating_changed_at=stamp)
        fake._bump("movies", "rated_at", stamp)
    fake.clear_log()
    # The shelf's only rating goes: the small-list removal guard would rightly ask first (issue 18).
    report = w.run(allow_mass_removal=True)
    assert not report.failed, report.failed
    reads = [(r.method, r.path, r.query.get("extended"), bool(r.query.get("date_from")))
             for r in fake.requests if r.path.startswith(("/sync/all-items", "/sync/ratings/"))]
    assert reads == [("GET", "/sync/all-items/movies", ["full"], True), ("POST", "/sync/ratings/movies", None, True)]
    ratings = {e["item"]["ids"].get("imdb"): e["value"] for e in w.get("ratings")}
    assert ratings.get("tt0816692") == 7 and "tt0111161" not in ratings


def test_faults_are_ridden_out_with_nothing_lost_or_duplicated(world: Callable[..., World], fake: FakeSimkl) -> None:
    _seed(fake)
    w = world()
    _seed_shelf(w)
    fake.faults.rate_limit_burst(2, retry_after=1, path="/sync/activities")
    fake.faults.server_error_burst(2, status=503, path="/sync/all-items/shows")
    fake.faults.down(1, path="/sync/add-to-list")
    fake.faults.server_error_burst(1, status=502, path="/sync/history$")
    fake.faults.rate_limit_burst(1, path="/sync/ratings$")
    # The answer is cut off after Simkl applied the write: the retry must not add a second watch.
    fake.faults.truncated_body(1, method="POST", path="/sync/history$")
    fake.faults.truncated_body(1, method="GET", path="/sync/all-items/movies")
    report = w.run()
    assert not report.failed, report.failed
    answered = [r for r in fake.requests if r.method == "POST" and r.status is not None and r.status < 300
                and not r.path.startswith("/sync/ratings/")]  # /sync/ratings/{type} is a read (POST per blueprint)
    assert sorted(r.path for r in answered) == ["/sync/add-to-list", "/sync/history", "/sync/ratings"]
    assert len(fake.requests_matching("POST", "/sync/history$")) == 3  # 502, cut off, answered
    assert fake.status_of("movie", "imdb", "tt0110912") == "plantowatch"
    bb = fake.record_of("show", "imdb", "tt0903747")
    assert set(bb["episodes"]) == {"1x1", "1x2"}
    assert len(w.get("watch_history")) == 4

    fake.clear_log()
    again = w.run()
    assert not again.failed and writes(fake) == []


def test_unknown_titles_go_to_excluded_json_with_the_reason(world: Callable[..., World], fake: FakeSimkl) -> None:
    w = world()
    unknown = {"kind": "movie", "title": "Nobody Knows", "year": 2031, "ids": {"imdb": "tt9999999"}}
    w.put("watchlist", [{"item": unknown}, {"item": PULP}])
    report = w.run()
    assert not report.failed
    excluded = w.excluded()["watchlist"]
    assert [item["entry"]["item"]["ids"]["imdb"] for item in excluded] == ["tt9999999"]
    assert excluded[0]["reason"].startswith("not_found")
    result = report.results[("simkl", next(iter(k[1] for k in report.results if k[0] == "simkl" and k[1].value == "watchlist")))]
    assert len(result.added) == 1


def test_not_logged_in_and_rejected_tokens_name_the_config_command(world: Callable[..., World], fake: FakeSimkl) -> None:
    w = world()
    w.put("watchlist", [{"item": PULP}])
    (w.base / "credentials.toml").write_text('simkl_access_token = "wrong-token"\n')
    report = w.run()
    assert "totalrecall config simkl" in report.failed["simkl"]
    assert "401" in report.failed["simkl"]
    (w.base / "credentials.toml").write_text("")
    report = w.run()
    assert report.failed["simkl"] == "simkl: not logged in; run `totalrecall config simkl`"


def test_requests_carry_simkl_headers_and_app_params_and_no_secret_is_cached(
    world: Callable[..., World], fake: FakeSimkl
) -> None:
    _seed(fake)
    w = world()
    w.put("watchlist", [{"item": PULP}])
    w.run()
    for request in fake.requests:
        assert request.headers["simkl-api-key"] == CLIENT_ID
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["User-Agent"].startswith("totalrecall/")
        assert request.query["client_id"] == [CLIENT_ID] and request.query["app-name"] == ["totalrecall"]
        assert request.query["app-version"]
    post = fake.requests_matching("POST", "/sync/add-to-list")[0]
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.body)["movies"][0]["to"] == "plantowatch"
    stored = b"".join(path.read_bytes() for path in (w.base / "data").rglob("*") if path.is_file())
    assert TOKEN.encode() not in stored


def test_removals_on_the_shelf_reach_simkl_without_touching_other_statuses(
    world: Callable[..., World], fake: FakeSimkl
) -> None:
    _seed(fake)
    w = world()
    _seed_shelf(w)
    w.run()
    w.run()  # baselines now hold what both sides agree on
    assert fake.status_of("movie", "imdb", "tt0110912") == "plantowatch"
    w.put("watchlist", [entry for entry in w.get("watchlist") if entry["item"]["ids"].get("imdb") != "tt0110912"])
    w.put("watch_history", [entry for entry in w.get("watch_history") if entry["item"].get("episode") != 2])
    fake.clear_log()
    report = w.run()
    assert not report.failed, report.failed
    assert fake.record_of("movie", "imdb", "tt0110912") is None
    bb = fake.record_of("show", "imdb", "tt0903747")
    assert set(bb["episodes"]) == {"1x1"} and bb["status"] == "watching"
    bodies = [json.loads(r.body) for r in fake.requests_matching("POST", "/sync/history/remove$")]
    assert [list(body) for body in bodies] == [["movies"], ["shows"]]
    # An episode is always named with its season and number: a bare show would leave every list.
    assert bodies[1]["shows"][0]["seasons"] == [{"number": 1, "episodes": [{"number": 2}]}]
    assert fake.status_of("movie", "imdb", "tt0468569") == "dropped"
    assert fake.status_of("show", "imdb", "tt0944947") == "hold"


def test_a_watch_recorded_on_simkl_is_not_taken_for_a_watchlist_removal(world: Callable[..., World], fake: FakeSimkl) -> None:
    """Regression: Simkl moves a plan-to-watch movie to completed when TotalRecall records a play; the next
    sync read that as the user removing it from the watchlist and removed it everywhere."""
    _seed(fake)
    w = world({"sync_reviews": False})
    _seed_shelf(w)
    w.run()
    assert fake.status_of("movie", "imdb", "tt0068646") == "plantowatch"  # The Godfather, on both watchlists
    plays = w.get("watch_history") + [{"item": {"kind": "movie", "title": "The Godfather", "year": 1972,
                                                "ids": {"imdb": "tt0068646", "tmdb": 238}},
                                       "watched_at": "2026-03-01T20:00:00Z"}]
    w.put("watch_history", plays)
    w.run()
    assert fake.status_of("movie", "imdb", "tt0068646") == "completed"  # Simkl's own doing
    w.run()
    assert "tt0068646" in _imdb_ids(w.get("watchlist"))  # still on the shelf's watchlist
