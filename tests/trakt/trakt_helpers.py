"""Builders shared by the Trakt tests: connector contexts on a base path, a large catalogue, raw requests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from urllib3.util import SKIP_HEADER

from totalrecall.collect.cache import CollectCache
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.model import Ids
from totalrecall.sandbox.catalogue import Catalogue, CatalogueEntry, load_catalogue
from totalrecall.sandbox.fake_trakt import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, FakeTrakt
from totalrecall.sources.base import ServiceContext

SCALE = 0.01


def settings_for(url: str) -> dict[str, Any]:
    return {"enabled": True, "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET, "api_url": url}


def make_context(base: Path, url: str, *, session: Callable[[], Any] | None = None, **options: Any) -> ServiceContext:
    paths = Paths(base)
    cache = CollectCache(paths, "trakt")
    return ServiceContext(
        name="trakt",
        settings=settings_for(url),
        credentials=CredentialStore(paths.credentials_file),
        paths=paths,
        session_factory=session or (lambda: cache.session()),
        time_scale=options.pop("time_scale", SCALE),
        load_state=cache.load_state,
        save_state=cache.save_state,
        load_snapshot=cache.load_snapshot,
        **options,
    )


def big_catalogue(movies: int = 260) -> Catalogue:
    """The shipped catalogue plus `movies` invented films, enough for batching tests."""
    titles = list(load_catalogue().titles)
    for number in range(movies):
        titles.append(
            CatalogueEntry(
                kind=load_catalogue().titles[0].kind,
                title=f"Test Film {number}",
                year=2000 + number % 20,
                ids=Ids(imdb=f"tt9{number:06d}", tmdb=900000 + number, trakt=800000 + number, slug=f"test-film-{number}"),
            )
        )
    return Catalogue(titles)


def login(fake: FakeTrakt, base: Path) -> dict[str, Any]:
    """Tokens from the fake saved in base/credentials.toml, as `config trakt` leaves them."""
    from totalrecall.sources.trakt.api import token_values

    tokens = fake.issue_tokens()
    CredentialStore(base / "credentials.toml").update(token_values(tokens))
    return tokens


def raw_get(fake: FakeTrakt, path: str, token: str | None = None, **headers: str) -> requests.Response:
    sent = {"trakt-api-key": SANDBOX_CLIENT_ID, "trakt-api-version": "2", "Content-Type": "application/json",
            "User-Agent": "tests/1.0"}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    sent.update(headers)
    # None drops a header; urllib3 adds a User-Agent of its own unless told to skip it.
    sent = {k: (v or (SKIP_HEADER if k == "User-Agent" else None)) for k, v in sent.items()}
    return requests.get(fake.url + path, headers=sent, timeout=10)
