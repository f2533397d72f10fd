"""Writes through IMDb's own page controls, each confirmed by loading the page again and reading it back."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import atomic_write_text
from totalrecall.model import Kind, Review, format_time
from totalrecall.sources.imdb import selectors as sel
from totalrecall.sources.imdb.browser import ImdbBrowser

__all__ = [
    "TitleState",
    "NotFound",
    "open_title",
    "set_rating",
    "remove_rating",
    "set_watchlist",
    "set_checkin",
    "ReviewLedger",
    "submit_review",
    "review_form_url",
    "LAST_SUBMITTED_KEY",
]

log = logging.getLogger("totalrecall.imdb")

LAST_SUBMITTED_KEY = "imdb_reviews_last_submitted"
_JSON_LD_KINDS = {"Movie": Kind.MOVIE, "TVSeries": Kind.SHOW, "TVEpisode": Kind.EPISODE, "TVMiniSeries": Kind.SHOW}


class NotFound(Exception):
    """IMDb has no title page for this id."""


@attrs.frozen
class TitleState:
    """What a title page shows about the signed-in user's relation to the title."""

    rating: int | None
    on_watchlist: bool
    watched: bool
    kind: Kind | None


def open_title(session: ImdbBrowser, imdb_id: str) -> TitleState:
    session.open(f"/title/{imdb_id}/", page="title")
    found = session.first_of([sel.USER_RATING, sel.NOT_FOUND])
    if found is sel.NOT_FOUND:
        raise NotFound(imdb_id)
    if found is None:
        session.stop_at_captcha()
        raise session.changed(sel.USER_RATING)
    return read_title(session, imdb_id)


def read_title(session: ImdbBrowser, imdb_id: str) -> TitleState:
    # The controls hydrate after the page: wait for the rating widget to settle on rated or unrated,
    # and for the watchlist loader to go, before trusting what they show.
    shown = session.first_of([sel.USER_RATING_SCORE, sel.USER_RATING_UNRATED])
    if shown is None:
        raise session.changed(sel.USER_RATING_SCORE)
    rating = None
    if shown is sel.USER_RATING_SCORE:
        text = session.find(sel.USER_RATING_SCORE).get_attribute("textContent") or ""
        digits = re.search(r"\d+", text)
        if digits is None:
            raise session.changed(sel.USER_RATING_SCORE)
        rating = int(digits.group())
    if session.present(sel.WATCHLIST_LOADER):
        session.gone(sel.WATCHLIST_LOADER)
    button = session.find(sel.WATCHLIST_BUTTON)
    pressed = button.get_attribute("aria-pressed")
    if pressed in ("true", "false"):
        on_watchlist = pressed == "true"
    else:
        on_watchlist = session.optional_in(button, sel.WATCHLIST_ADD_ICON) is None
    watched_hook = sel.watched_button(imdb_id)
    watched_control = session.find(watched_hook)
    label = watched_control.get_attribute("aria-label") or watched_control.text or ""
    watched = re.match(r"\s*Watched\b", label) is not None
    return TitleState(rating, on_watchlist, watched, _kind(session))


def _kind(session: ImdbBrowser) -> Kind | None:
    for script in session.find_all(sel.TITLE_JSON_LD):
        try:
            data = json.loads(script.get_attribute("textContent") or "{}")
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("@type") in _JSON_LD_KINDS:
            return _JSON_LD_KINDS[data["@type"]]
    return None


def set_rating(session: ImdbBrowser, imdb_id: str, value: int) -> bool:
    """Rate through the star control; True once a reload shows the rating."""
    state = open_title(session, imdb_id)
    if state.rating == value:
        return True
    session.click(sel.USER_RATING_BUTTON)
    session.visible(sel.RATING_PROMPT)
    session.click(sel.rate_star(value))
    since = session.page_time()
    session.click(sel.RATING_SUBMIT)
    _refused(session, session.gone_or_refused(sel.RATING_PROMPT, since), imdb_id)
    return open_title(session, imdb_id).rating == value


def remove_rating(session: ImdbBrowser, imdb_id: str) -> bool:
    state = open_title(session, imdb_id)
    if state.rating is None:
        return True
    session.click(sel.USER_RATING_BUTTON)
    session.visible(sel.RATING_PROMPT)
    since = session.page_time()
    session.click(sel.RATING_REMOVE)
    _refused(session, session.gone_or_refused(sel.RATING_PROMPT, since), imdb_id)
    return open_title(session, imdb_id).rating is None


def set_watchlist(session: ImdbBrowser, imdb_id: str, wanted: bool) -> bool:
    state = open_title(session, imdb_id)
    if state.on_watchlist == wanted:
        return True
    since = session.page_time()
    session.click(sel.WATCHLIST_BUTTON)
    _settled(session, lambda: read_title(session, imdb_id).on_watchlist == wanted, sel.WATCHLIST_BUTTON, since)
    return open_title(session, imdb_id).on_watchlist == wanted


def set_checkin(session: ImdbBrowser, imdb_id: str, wanted: bool) -> bool:
    state = open_title(session, imdb_id)
    if state.watched == wanted:
        return True
    since = session.page_time()
    session.click(sel.watched_button(imdb_id))
    _settled(session, lambda: read_title(session, imdb_id).watched == wanted, sel.watched_button(imdb_id), since)
    return open_title(session, imdb_id).watched == wanted


def _settled(session: ImdbBrowser, check: Any, hook: sel.Hook, since: float) -> None:
    """Wait for the control to show the new state before reloading (the request runs in the page).

    A refused request ends the wait at once: the control will not change, and the reload shows it.
    """
    try:
        _refused(session, session.wait_until(lambda _driver: session.refused_request(since) or check(), hook), "")
    except Exception:  # noqa: BLE001 - the reload below is the confirmation that counts
        log.debug("imdb: %s did not change in place; checking after a reload", hook.where)


def _refused(session: ImdbBrowser, status: object, imdb_id: str) -> None:
    # True is a settled control; a number >= 400 is the status IMDb refused the write with.
    if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
        log.warning("imdb: IMDb answered %s to a write%s; checking after a reload", status,
                    f" for {imdb_id}" if imdb_id else "")


# --- reviews -----------------------------------------------------------------------------------------

def _normalized(text: str) -> str:
    return " ".join(text.split())


def review_key(imdb_id: str, text: str) -> str:
    return f"{imdb_id}:{hashlib.sha256(_normalized(text).encode()).hexdigest()[:24]}"


class ReviewLedger:
    """Reviews this account has submitted through TotalRecall (title + text digest, never the text).

    Written before the form is submitted, so a run interrupted mid-submission never submits again.
    """

    def __init__(self, path: Path, credentials: CredentialStore) -> None:
        self.path = path
        self.credentials = credentials

    def _load(self) -> dict[str, Any]:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return document if isinstance(document, dict) else {}

    def submitted(self, imdb_id: str, text: str) -> bool:
        return review_key(imdb_id, text) in self._load()

    def record(self, imdb_id: str, text: str, when: datetime, state: str) -> None:
        document = self._load()
        document[review_key(imdb_id, text)] = {"at": format_time(when), "state": state}
        atomic_write_text(self.path, json.dumps(document, indent=1, sort_keys=True) + "\n", mode=0o600)
        if state == "submitting":
            self.credentials.set(LAST_SUBMITTED_KEY, format_time(when))


def review_form_url(site_url: str, imdb_id: str) -> str:
    """IMDb's review form lives on contribute.imdb.com; any other site (a proxy, the sandbox) serves it."""
    site = site_url.rstrip("/")
    if re.match(r"^https?://(www\.)?imdb\.com$", site):
        site = "https://contribute.imdb.com"
    return f"{site}/review/{imdb_id}/add?bus=imdb"


def _headline(text: str) -> str:
    # The form requires a headline; the review's first sentence, cut at a word, stands in for it.
    first = re.split(r"(?<=[.!?])\s", _normalized(text), maxsplit=1)[0]
    if len(first) <= 60:
        return first
    return first[:60].rsplit(" ", 1)[0] + "…"


def submit_review(session: ImdbBrowser, imdb_id: str, review: Review, ledger: ReviewLedger) -> None:
    """Fill in and submit the review form once; the caller confirms on the user's reviews pages."""
    session.open(review_form_url(session.site_url, imdb_id), page="review form")
    session.type_into(sel.REVIEW_HEADLINE, _headline(review.text))
    session.type_into(sel.REVIEW_TEXT, review.text)
    session.click(sel.REVIEW_SPOILER_YES if review.spoiler else sel.REVIEW_SPOILER_NO)
    form_url = session.current_url
    # Recorded only now, just before the one click that sends it: a form that never loaded (the site
    # down) leaves no record, so the next run submits the review instead of skipping it for good.
    ledger.record(imdb_id, review.text, datetime.now(UTC), "submitting")
    session.click(sel.REVIEW_SUBMIT)
    session.wait_until(lambda driver: driver.current_url != form_url, sel.REVIEW_SUBMIT)
    ledger.record(imdb_id, review.text, datetime.now(UTC), "submitted")
