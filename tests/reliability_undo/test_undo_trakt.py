"""Undo on Trakt: a sync that adds, removes and re-rates on every data type is reverted to the state before."""

from __future__ import annotations

from pathlib import Path

from reliability_undo.undo_helpers import NOW, SCALE, UndoWorld, imdb_of, movie

from totalrecall.model import DataType
from totalrecall.sandbox.fake_trakt import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, FakeTrakt
from totalrecall.sandbox.libraries.trakt import sample_library
from totalrecall.sources.trakt.api import token_values

DATA_TYPES = tuple(DataType)
# What undo cannot restore exactly, and lists: a title put back on the watchlist is listed at the undo's time;
# a comment posted again is dated the undo's time.
CAVEATS = {DataType.WATCHLIST: ("added_at",), DataType.REVIEWS: ("created_at",)}


def test_undo_restores_trakt(tmp_path: Path) -> None:
    with FakeTrakt(time_scale=SCALE) as fake:
        fake.seed(sample_library())
        settings = {"enabled": True, "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET,
                    "api_url": fake.url}
        world = UndoWorld(tmp_path / "base", "trakt", "trakt", settings, token_values(fake.issue_tokens()),
                          {"sync_reviews": True})
        world.run()  # the shelf now holds Trakt's library; baselines for removals

        world.edit("watchlist", lambda rows: [r for r in rows if imdb_of(r) != "tt0468569"]
                   + [{"item": movie("tt2582802"), "added_at": NOW}])
        world.edit("ratings", lambda rows: [
            {**r, "value": 6, "rated_at": NOW} if imdb_of(r) == "tt0068646" else r
            for r in rows if imdb_of(r) != "tt0133093"
        ] + [{"item": movie("tt0245429"), "value": 7, "rated_at": NOW}])
        # A second play of a film Trakt has one play of: undo must take away that play only.
        world.edit("watch_history", lambda rows: [r for r in rows if imdb_of(r) != "tt0137523"]
                   + [{"item": movie("tt0110912"), "watched_at": NOW}])
        world.edit("reviews", lambda rows: [r for r in rows if imdb_of(r) != "tt0137523"] + [
            {"item": movie("tt0068646"), "text": "An offer you cannot refuse, and a film you cannot stop watching.",
             "created_at": NOW}])

        caveats = world.sync_then_undo(DATA_TYPES, CAVEATS)
        assert any("listed at the time of the undo" in caveat for caveat in caveats)
        assert any("review posted again, dated the time of the undo" in caveat for caveat in caveats), caveats


def test_removing_a_review_known_by_its_imdb_id_deletes_the_comment(tmp_path: Path) -> None:
    """Regression: a review to remove that carries fewer ids than Trakt lists (another service's, or the
    journal's) was reported removed while its comment stayed on Trakt."""
    import requests

    from totalrecall.config.credentials import CredentialStore
    from totalrecall.config.paths import Paths
    from totalrecall.model import Ids, Item, Kind, Review
    from totalrecall.sources.base import ServiceContext
    from totalrecall.sources.trakt import TraktService

    with FakeTrakt(time_scale=SCALE) as fake:
        fake.seed(sample_library())
        credentials = CredentialStore(tmp_path / "credentials.toml")
        credentials.update(token_values(fake.issue_tokens()))
        settings = {"client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET, "api_url": fake.url}
        service = TraktService(ServiceContext(name="trakt", settings=settings, credentials=credentials,
                                              paths=Paths(tmp_path), session_factory=requests.Session,
                                              time_scale=SCALE))
        try:
            assert len(service.read(DataType.REVIEWS)) == 2
            review = Review(Item(Kind.MOVIE, ids=Ids(imdb="tt0137523")),
                            "The first rule is that you keep talking about this film for years.")
            result = service.write(DataType.REVIEWS, (), (review,))
            assert result.removed == (review,) and result.excluded == ()
            assert [r.item.kind for r in service.read(DataType.REVIEWS)] == [Kind.EPISODE]  # the other one stays
        finally:
            service.close()
        assert len(fake.library()["comments"]) == 1
