"""The Plex Media Server fake's filter schema (`includeMeta=1`) and the part of its media query language it evaluates.

[P-spec] `/library/sections/{id}/all`: `includeMeta=1` "adds the Meta object to the response"; [P-old] gives
its shape: `Meta{Type[{key, type, title, active, Filter[], Sort[], Field[]}], FieldType[{type, Operator[]}]}`.
The media query language ([P-spec] `mediaQuery`) filters with `field<op>=value` pairs, where the operator
belongs to the field's type (=, !=, ==, !==, <=, >=, >>=, <<=), values separated by commas are alternatives,
and `push=1`/`pop=1` group conditions (AND unless `or=1` joins them).

This fake keeps its query string as a mapping (order lost), so it evaluates conjunctions, grouped or not, and
answers 400 to `or=1` rather than pretend. Fields the fake's items do not carry are refused with 400 too:
a client filtering on them would otherwise get the whole section back as if it matched.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["OPERATORS", "MediaQuery", "MediaQueryError", "collections_meta", "section_meta"]

# The operators of each field type (PMS's FieldType list; python-plexapi documents the same set per type).
OPERATORS: dict[str, list[tuple[str, str]]] = {
    "tag": [("=", "is"), ("!=", "is not")],
    "integer": [("=", "is"), ("!=", "is not"), (">>=", "is greater than"), ("<<=", "is less than")],
    "string": [("=", "contains"), ("!=", "does not contain"), ("==", "is"), ("!==", "is not"),
               ("<=", "begins with"), (">=", "ends with")],
    "boolean": [("=", "is true"), ("!=", "is false")],
    "date": [("<<=", "is before"), (">>=", "is after")],
}

# The fields the fake can evaluate, per level: (field, type, title). An item's own attributes, except
# `unwatched` (no plays) and `inProgress` (a resume offset), which are derived as the server derives them.
_FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "movie": [("title", "string", "Title"), ("year", "integer", "Year"), ("userRating", "integer", "Rating"),
              ("viewCount", "integer", "Plays"), ("lastViewedAt", "date", "Last Played"),
              ("addedAt", "date", "Date Added"), ("unwatched", "boolean", "Unplayed"),
              ("inProgress", "boolean", "In Progress")],
    "show": [("title", "string", "Show Title"), ("year", "integer", "Show Year"), ("userRating", "integer", "Show Rating"),
             ("viewCount", "integer", "Show Plays"), ("lastViewedAt", "date", "Show Last Played"),
             ("addedAt", "date", "Show Date Added"), ("unwatchedLeaves", "boolean", "Unplayed")],
    "season": [("index", "integer", "Season Number")],
    "episode": [("title", "string", "Episode Title"), ("year", "integer", "Episode Year"),
                ("userRating", "integer", "Episode Rating"), ("viewCount", "integer", "Episode Plays"),
                ("lastViewedAt", "date", "Episode Last Played"), ("addedAt", "date", "Episode Date Added"),
                ("unwatched", "boolean", "Unplayed Episodes"), ("inProgress", "boolean", "In Progress")],
}
# Fields every level has although PMS leaves them out of its Meta (python-plexapi adds them by hand: guid,
# id = ratingKey, index, lastRatedAt); the fake evaluates them all the same.
_HIDDEN_FIELDS = {"guid": "guid", "id": "integer", "index": "integer", "lastRatedAt": "date"}
_SORTS = [("titleSort", "asc", "Title"), ("year", "desc", "Year"), ("userRating", "desc", "Rating"),
          ("addedAt", "desc", "Date Added"), ("lastViewedAt", "desc", "Last Played"), ("viewCount", "desc", "Plays")]
_TYPE_NUMBERS = {"movie": 1, "show": 2, "season": 3, "episode": 4, "collection": 18}
_LEVELS_OF_SECTION = {"movie": ("movie",), "show": ("show", "season", "episode")}
# Query parameters that are not filters: paging, inclusions, type, sort and the grouping words.
_NOT_FILTERS = re.compile(r"^(X-Plex-.*|include.*|type|sourceType|sort|group|limit|push|pop|and|checkFiles|"
                          r"excludeAllLeaves|asyncAugmentMetadata)$")
_QUERY = re.compile(r"^(?:(?P<level>[a-zA-Z]+)\.)?(?P<field>[a-zA-Z]+)(?P<op>[!<>=]*)$")
_RELATIVE = re.compile(r"^-(\d+)(mon|[smhdwy])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "mon": 30 * 86400, "y": 365 * 86400}


class MediaQueryError(ValueError):
    """A query the fake refuses (400): malformed, an unknown field or operator, or `or=1`."""


def _type_entry(section_key: str, level: str, title: str) -> dict[str, Any]:
    number = _TYPE_NUMBERS[level]
    prefix = "" if level in ("movie", "collection") else f"{level}."
    return {
        "key": f"/library/sections/{section_key}/all?type={number}",
        "type": level,
        "title": title,
        "active": level in ("movie", "show"),
        "Filter": [{"filter": field, "filterType": kind, "key": f"/library/sections/{section_key}/{field}?type={number}",
                    "title": field_title, "type": "filter"}
                   for field, kind, field_title in _FIELDS.get(level, []) if kind == "boolean"],
        "Sort": [{"defaultDirection": direction, "descKey": f"{key}:desc", "key": key, "title": sort_title,
                  **({"default": "asc"} if key == "titleSort" else {})} for key, direction, sort_title in _SORTS],
        "Field": [{"key": f"{prefix}{field}", "title": field_title, "type": kind}
                  for field, kind, field_title in _FIELDS.get(level, [])],
    }


def _field_types() -> list[dict[str, Any]]:
    return [{"type": kind, "Operator": [{"key": key, "title": title} for key, title in operators]}
            for kind, operators in OPERATORS.items()]


def section_meta(section_key: str, section_type: str) -> dict[str, Any]:
    """The Meta object of a section's `all` listing: one Type per level the section holds, then the FieldTypes."""
    titles = {"movie": "Movies", "show": "TV Shows", "season": "Seasons", "episode": "Episodes"}
    levels = _LEVELS_OF_SECTION.get(section_type, (section_type,))
    return {"Type": [_type_entry(section_key, level, titles[level]) for level in levels], "FieldType": _field_types()}


def collections_meta(section_key: str) -> dict[str, Any]:
    """The Meta object of a section's `collections` listing: the collection Type (python-plexapi adds it to the list)."""
    return {"Type": [_type_entry(section_key, "collection", "Collections")], "FieldType": _field_types()}


Resolver = Callable[[Mapping[str, Any], str], Mapping[str, Any] | None]


class MediaQuery:
    """The filter conditions of one listing request, evaluated against the fake's item records.

    `resolve(record, level)` gives the record a field of another level refers to (an episode's show, its
    season), or None when the item has none.
    """

    def __init__(self, query: Mapping[str, list[str]], listed_level: str, now: Callable[[], float] = time.time) -> None:
        if "1" in query.get("or", []):
            raise MediaQueryError("or=1 is not evaluated by this fake")
        self.listed_level = listed_level
        self.now = now
        self.conditions: list[tuple[str, str, str, str, list[str]]] = []
        for name, values in query.items():
            if _NOT_FILTERS.match(name):
                continue
            parsed = _QUERY.match(name)
            if parsed is None:
                raise MediaQueryError(f"malformed filter {name!r}")
            level = parsed["level"] or listed_level
            field = parsed["field"]
            kind = self._field_type(level, field)
            for value in values:
                # A query string splits at the first "=", so `title==x` arrives as title: "=x": the "="s that
                # open the value belong to the operator.
                bare = value.lstrip("=")
                op = parsed["op"] + "=" * (len(value) - len(bare) + 1)
                if op not in {key for key, _title in OPERATORS.get(kind, [("=", "is")])}:
                    raise MediaQueryError(f"operator {op!r} does not apply to {kind} field {name!r}")
                self.conditions.append((level, field, kind, op, bare.split(",")))

    @staticmethod
    def _field_type(level: str, field: str) -> str:
        for name, kind, _title in _FIELDS.get(level, []):
            if name == field:
                return kind
        if level in _FIELDS and field in _HIDDEN_FIELDS:
            return _HIDDEN_FIELDS[field]
        raise MediaQueryError(f"unknown filter field {level}.{field}")

    def matches(self, record: Mapping[str, Any], resolve: Resolver) -> bool:
        for level, field, kind, op, alternatives in self.conditions:
            target = record if level == self.listed_level else resolve(record, level)
            if target is None:
                return False
            value = _value(target, field)
            if not any(self._holds(kind, op, value, wanted) for wanted in alternatives):
                return False
        return True

    def _holds(self, kind: str, op: str, value: Any, wanted: str) -> bool:
        if kind == "boolean":
            truth = bool(value) == (wanted not in ("0", "false"))
            return truth if op == "=" else not truth
        if kind in ("string", "guid", "tag"):
            text, needle = str(value or "").lower(), wanted.lower()
            if kind != "string" or op == "==":
                return text == needle
            return {"=": needle in text, "!=": needle not in text, "!==": text != needle,
                    "<=": text.startswith(needle), ">=": text.endswith(needle)}[op]
        number = self._number(kind, wanted)
        if value is None:
            # An item without the value (unrated, never played) matches only "is not".
            return op == "!="
        value = float(value)
        return {"=": value == number, "!=": value != number, ">>=": value > number, "<<=": value < number}[op]

    def _number(self, kind: str, wanted: str) -> float:
        relative = _RELATIVE.match(wanted) if kind == "date" else None
        if relative is not None:
            return self.now() - int(relative[1]) * _SECONDS[relative[2]]
        try:
            return float(wanted)
        except ValueError:
            raise MediaQueryError(f"{wanted!r} is not a {kind} value") from None


def _value(record: Mapping[str, Any], field: str) -> Any:
    if field == "id":
        return record.get("ratingKey")
    if field == "unwatched":
        return not record.get("viewCount")
    if field == "unwatchedLeaves":
        return record.get("unwatchedLeaves", not record.get("viewCount"))
    if field == "inProgress":
        return bool(record.get("viewOffset"))
    return record.get(field)
