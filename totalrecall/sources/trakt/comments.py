"""Trakt comments as reviews: reading the user's comments, posting each review once, deleting by comment id."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from totalrecall.http import AmbiguousWriteError, HttpStatusError
from totalrecall.model import DataType, Entry, Review
from totalrecall.resolve.membership import review_text_key
from totalrecall.sources.base import Excluded, WriteResult
from totalrecall.sources.trakt import mapping

__all__ = ["MIN_COMMENT_WORDS", "NOT_FOUND", "TraktComments", "account_limit_reason", "parse_record"]

_log = logging.getLogger("totalrecall.trakt")

NOT_FOUND = "not_found: trakt does not know this title"
MIN_COMMENT_WORDS = 5


class TraktComments:
    """The reviews half of TraktService: Trakt comments read into reviews and written from them.

    A comment once posted is recorded in the state file before anything else, so a review is never
    published twice, even when Trakt's answer to the POST is lost.
    """

    # Provided by TraktService.
    api: Any
    ids: Any
    context: Any
    malformed: Any
    _comment_ids: dict[tuple[Any, ...], int] | None
    _comments: list[tuple[Review, int]]
    _update_state: Callable[[Callable[[dict[str, Any]], None]], None]

    def _fetch_comments(self) -> list[Entry]:
        entries: list[Entry] = []
        comment_ids: dict[tuple[Any, ...], int] = {}
        comments: list[tuple[Review, int]] = []
        for record in self.api.pages("/users/me/comments/all/all", {"include_replies": "false"}):
            parsed = self.malformed.parse(DataType.REVIEWS, record, _comment)
            if parsed is None:
                continue
            review, comment_id = parsed
            self.ids.remember(review.item)
            entries.append(review)
            comment_ids[_review_key(review)] = comment_id
            comments.append((review, comment_id))
        self._comment_ids = comment_ids
        self._comments = comments
        return entries

    def _write_reviews(self, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        removed: list[Entry] = []
        excluded: list[Excluded] = []
        if removals:
            if self._comment_ids is None:
                self._fetch_comments()
            for entry in removals:
                comment_id = self._comment_id(entry)
                if comment_id is None:
                    removed.append(entry)  # not there: already the wanted state
                    continue
                try:
                    self.api.delete(f"/comments/{comment_id}")
                except HttpStatusError as error:
                    if error.status == 404:
                        removed.append(entry)
                    else:
                        excluded.append(Excluded(entry, f"rejected: trakt refused to delete the comment ({error.status})"))
                    continue
                removed.append(entry)
        added: list[Entry] = []
        posted = dict(self.context.load_state().get("posted_reviews", {}))
        for entry in adds:
            assert isinstance(entry, Review)
            if len(entry.text.split()) < MIN_COMMENT_WORDS:
                excluded.append(Excluded(entry, f"too_short: trakt needs a comment of at least {MIN_COMMENT_WORDS} words"))
                continue
            item = self.ids.resolve(entry.item)
            if item is None:
                excluded.append(Excluded(entry, NOT_FOUND))
                continue
            key = _journal_key(attrs.evolve(entry, item=item))
            if key in posted:
                # Posted by an earlier run and not listed by Trakt yet: never post it a second time.
                added.append(entry)
                continue
            body = {"comment": entry.text, "spoiler": entry.spoiler, item.kind.value: {"ids": mapping.ids_body(item)}}
            try:
                # Trakt documents 201, but any 2xx means the comment is public now: it is recorded as posted
                # whatever the body says, since posting it again would publish it twice.
                status, answer = self.api.post_answer("/comments", body, once=True)
            except AmbiguousWriteError as error:
                # Published or not: what Trakt lists now decides, and nothing is sent again.
                _log.warning("%s", error)
                self._fetch_comments()
                comment_id = self._comment_id(attrs.evolve(entry, item=item))
                if comment_id is None:
                    excluded.append(Excluded(entry, "unconfirmed: the comment's answer was lost and Trakt does not "
                                                    "list it; not resent, the next sync checks again"))
                    continue
                answer, status = {"id": comment_id}, 0
            except HttpStatusError as error:
                if error.status == 404:
                    excluded.append(Excluded(entry, NOT_FOUND))
                elif error.status == 420:
                    excluded.append(Excluded(entry, account_limit_reason(error, DataType.REVIEWS)))
                elif error.status in (400, 409, 422):
                    excluded.append(Excluded(entry, f"rejected: trakt refused the comment ({error.status}{_detail(error)})"))
                else:
                    raise
                continue
            posted[key] = _posted_comment_id(answer)
            if posted[key] is None:
                _log.warning("%s: trakt took the comment on %s (%s) but did not answer with it; recorded as posted",
                             self.context.name, entry.item.label(), status)
            self._update_state(lambda state, key=key, value=posted[key]: state.setdefault("posted_reviews", {}).__setitem__(key, value))
            added.append(entry)
        return WriteResult(added=tuple(added), removed=tuple(removed), excluded=tuple(excluded))


    def _comment_id(self, entry: Entry) -> int | None:
        """The id of the user's comment that is this review: same text on the same title. The review may
        come from another service (or the journal) and carry fewer ids than Trakt lists with the comment."""
        found = (self._comment_ids or {}).get(_review_key(entry))
        if found is not None:
            return found
        assert isinstance(entry, Review)
        text = review_text_key(entry.text)
        for review, comment_id in self._comments:
            if review_text_key(review.text) == text and review.item.same_as(entry.item):
                return comment_id
        return None


def _review_key(review: Entry) -> tuple[Any, ...]:
    assert isinstance(review, Review)
    item = review.item
    return (item.kind.value, tuple(sorted(mapping.ids_body(item).items())), item.season, item.episode, review_text_key(review.text))


def _journal_key(review: Review) -> str:
    item = review.item
    ids = mapping.ids_body(item)
    ident = f"trakt:{ids['trakt']}" if "trakt" in ids else json.dumps(ids, sort_keys=True)
    text = hashlib.sha256(review_text_key(review.text).encode()).hexdigest()[:16]
    return f"{item.kind.value}|{ident}|{text}"


def account_limit_reason(error: HttpStatusError, data_type: DataType) -> str:
    limit = error.response.headers.get("X-Account-Limit") if error.response is not None else None
    cap = f" of {limit} items" if limit else ""
    return f"account_limit: trakt refused it (420): the account's {data_type.value} limit{cap} is reached; Trakt VIP raises it"


def _posted_comment_id(answer: Any) -> int | None:
    """The id of the comment a POST /comments answer carries, when the answer is a comment object."""
    comment_id = answer.get("id") if isinstance(answer, dict) else None
    return comment_id if isinstance(comment_id, int) and not isinstance(comment_id, bool) else None


def _detail(error: HttpStatusError) -> str:
    try:
        body = error.response.json() if error.response is not None else None
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            if isinstance(body.get(key), str):
                return f": {body[key]}"
        errors = body.get("errors")
        if isinstance(errors, dict):
            return ": " + "; ".join(f"{k} {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items())
    return ""


def parse_record(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise TypeError(f"a record is an object, not {type(raw).__name__}")
    return raw


def _comment(raw: Any) -> tuple[Review, int] | None:
    """A review and its comment id; None for what is no review (a reply, a comment on a list)."""
    review = mapping.parse_comment(parse_record(raw))
    if review is None:
        return None
    comment_id = raw["comment"]["id"]
    if not isinstance(comment_id, int) or isinstance(comment_id, bool):
        raise TypeError(f"comment id {comment_id!r} is not an integer")
    return review, comment_id
