"""Property tests: order independence, idempotence, and filters that never remove."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from resolve_helpers import T0

from totalrecall.model import (
    DataType,
    Entry,
    HistoryEntry,
    HistoryGranularity,
    Ids,
    Item,
    Kind,
    Rating,
    Review,
    WatchlistEntry,
)
from totalrecall.registries import strategies
from totalrecall.resolve import ResolveOptions, apply_filter, resolve

SERVICES = ["trakt", "simkl", "imdb", "plex"]
FAST = settings(max_examples=100, deadline=None)


def _title(number: int) -> dict[str, object]:
    # A fixed set of ids per title; each record shows a random non-empty subset of them.
    return {"imdb": f"tt{number:07d}", "tmdb": 100 + number, "trakt": 200 + number}


@st.composite
def items(draw: st.DrawFn) -> Item:
    number = draw(st.integers(1, 4))
    names = draw(st.lists(st.sampled_from(["imdb", "tmdb", "trakt"]), min_size=1, max_size=3, unique=True))
    ids = Ids(**{name: _title(number)[name] for name in names})  # type: ignore[arg-type]
    if draw(st.booleans()):
        return Item(kind=Kind.MOVIE, ids=ids, title=f"Movie {number}")
    return Item(
        kind=Kind.EPISODE,
        show_ids=ids,
        show_title=f"Show {number}",
        season=1,
        episode=draw(st.integers(1, 2)),
    )


times = st.one_of(st.none(), st.integers(0, 6 * 24).map(lambda hours: T0 + timedelta(hours=hours)))


def entries_of(data_type: DataType) -> st.SearchStrategy[Entry]:
    if data_type is DataType.RATINGS:
        return st.builds(Rating, item=items(), value=st.integers(1, 10), rated_at=times)
    if data_type is DataType.WATCHLIST:
        return st.builds(
            WatchlistEntry, item=items(), added_at=times, status=st.sampled_from([None, "plantowatch"])
        )
    if data_type is DataType.REVIEWS:
        return st.builds(
            Review, item=items(), text=st.sampled_from(["good", "good ", "bad"]), created_at=times
        )
    return st.builds(HistoryEntry, item=items(), watched_at=times)


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[DataType, dict[str, list[Entry]], dict[str, list[Entry]], ResolveOptions]:
    data_type = draw(st.sampled_from(list(DataType)))
    entry = entries_of(data_type)
    services = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=4, unique=True))
    current = {service: draw(st.lists(entry, max_size=5)) for service in services}
    baseline = {
        service: draw(st.lists(entry, max_size=5))
        for service in draw(st.lists(st.sampled_from(SERVICES), unique=True))
    }
    options = ResolveOptions(
        strategy=draw(st.sampled_from(strategies.names())),
        order=tuple(draw(st.permutations(SERVICES))),
        propagate_removals=draw(st.booleans()),
        suspects=frozenset(draw(st.lists(st.sampled_from(SERVICES), max_size=2))),
        granularity={
            service: draw(st.sampled_from(list(HistoryGranularity))) for service in ("plex", "imdb")
        },
    )
    return data_type, current, baseline, options


ratings_of_one_item = st.lists(
    st.tuples(
        st.sampled_from(SERVICES),
        st.builds(
            Rating,
            item=st.just(Item(kind=Kind.MOVIE, ids=Ids(imdb="tt0000001"))),
            value=st.integers(1, 10),
            rated_at=times,
        ),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda pair: pair[0],
)


@FAST
@given(ratings_of_one_item, st.randoms(use_true_random=False))
def test_merge_ignores_service_order(candidates: list[tuple[str, Rating]], random: object) -> None:
    shuffled = list(candidates)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    merge = strategies.get("merge")
    forward = merge(candidates, ResolveOptions(order=tuple(SERVICES)))
    backward = merge(shuffled, ResolveOptions(order=tuple(reversed(SERVICES))))
    assert forward == backward
    values = [rating.value for _, rating in candidates]
    assert min(values) <= forward.value <= max(values)


@FAST
@given(scenarios())
def test_resolving_a_resolved_set_changes_nothing(
    scenario: tuple[DataType, dict[str, list[Entry]], dict[str, list[Entry]], ResolveOptions],
) -> None:
    data_type, current, baseline, options = scenario
    first = resolve(data_type, current, baseline, options)
    again = resolve(data_type, {"x": list(first.entries)}, {"x": list(first.entries)}, options)
    assert again.entries == first.entries
    assert again.removed == ()


@FAST
@given(scenarios(), st.randoms(use_true_random=False))
def test_output_is_independent_of_service_order(
    scenario: tuple[DataType, dict[str, list[Entry]], dict[str, list[Entry]], ResolveOptions], random: object
) -> None:
    data_type, current, baseline, options = scenario
    names = list(current)
    random.shuffle(names)  # type: ignore[attr-defined]
    old = list(baseline)
    random.shuffle(old)  # type: ignore[attr-defined]
    reordered = resolve(data_type, {s: current[s] for s in names}, {s: baseline[s] for s in old}, options)
    assert reordered == resolve(data_type, current, baseline, options)


@FAST
@given(scenarios(), st.sampled_from(["item.kind == 'movie'", "item.season == `1`", "item.ids.tmdb > `102`"]))
def test_a_filter_never_adds_to_removed(
    scenario: tuple[DataType, dict[str, list[Entry]], dict[str, list[Entry]], ResolveOptions], where: str
) -> None:
    data_type, current, baseline, options = scenario
    resolution = resolve(data_type, current, baseline, options)
    narrowed = apply_filter(resolution, where)
    assert set(narrowed.removed) <= set(resolution.removed)
    assert set(narrowed.entries) <= set(resolution.entries)
    assert all(narrowed.in_scope(entry) for entry in [*narrowed.entries, *narrowed.removed])
