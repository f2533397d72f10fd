"""Reading the signed-in user's reviews from their reviews pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from totalrecall.model import Ids, Item, Kind, Review
from totalrecall.sources.imdb import selectors as sel
from totalrecall.sources.imdb.browser import ImdbBrowser

__all__ = ["user_id", "read_reviews", "parse_review_date"]

_MAX_PAGES = 200


def user_id(session: ImdbBrowser) -> str:
    """The account's ur… id: /profile redirects to /user/<id>/."""
    session.open("/profile", page="profile")
    found = session.wait_until(
        lambda driver: re.search(r"/user/(ur\d+)", driver.current_url), sel.PROFILE_LINK
    )
    return str(found.group(1))


def parse_review_date(text: str) -> datetime | None:
    text = " ".join(text.split())
    for pattern in ("%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def read_reviews(
    session: ImdbBrowser, account: str, kind_of: Callable[[str], Kind | None]
) -> list[Review]:
    """Every review on the account's reviews pages, following the next-page link to the end."""
    found: list[tuple[str, str | None, str, datetime | None, bool]] = []
    session.open(f"/user/{account}/reviews/", page="reviews")
    for _page in range(_MAX_PAGES):
        session.find(sel.REVIEWS_PAGE)
        for card in session.find_all(sel.REVIEW_CARD):
            link = session.find_in(card, sel.REVIEW_TITLE_LINK)
            matched = re.search(r"/title/(tt\d+)", link.get_attribute("href") or "")
            if matched is None:
                raise session.changed(sel.REVIEW_TITLE_LINK)
            body = session.find_in(card, sel.REVIEW_BODY)
            date = session.optional_in(card, sel.REVIEW_DATE)
            found.append((
                matched.group(1),
                (link.get_attribute("textContent") or "").strip() or None,
                (body.get_attribute("textContent") or "").strip(),
                parse_review_date(date.get_attribute("textContent") or "") if date else None,
                session.optional_in(card, sel.REVIEW_SPOILER) is not None,
            ))
        following = session.find_all(sel.REVIEWS_NEXT)
        if not following:
            break
        session.open(following[0].get_attribute("href"), page="reviews")
    # Kinds are looked up only now: finding one may open a title page, which would leave the cards stale.
    reviews = []
    for imdb_id, title, text, created_at, spoiler in found:
        kind = kind_of(imdb_id)
        if kind is not None:
            item = Item(kind=kind, ids=Ids(imdb=imdb_id), title=title)
            reviews.append(Review(item=item, text=text, created_at=created_at, spoiler=spoiler))
    return reviews
