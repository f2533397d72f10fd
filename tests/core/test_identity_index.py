"""ItemIndex: same titles grouped, conflicting imdb ids kept apart, constant work per lookup."""

from __future__ import annotations

from totalrecall.identity import ItemIndex
from totalrecall.model import Ids, Item, Kind


def test_groups_records_sharing_an_id_and_merges_their_ids() -> None:
    index: ItemIndex[str] = ItemIndex()
    first = index.add(Item(Kind.MOVIE, Ids(imdb="tt0111161")), "trakt")
    second = index.add(Item(Kind.MOVIE, Ids(imdb="tt0111161", tmdb=278)), "simkl")
    assert first == second
    assert index.item(first).ids == Ids(imdb="tt0111161", tmdb=278)
    assert index.find(Item(Kind.MOVIE, Ids(tmdb=278))) == first  # found by an id learnt from the second


def test_conflicting_imdb_ids_never_join_a_group() -> None:
    index: ItemIndex[None] = ItemIndex()
    first = index.add(Item(Kind.MOVIE, Ids(imdb="tt0000001", tmdb=5)))
    second = index.add(Item(Kind.MOVIE, Ids(imdb="tt0000002", tmdb=5)))
    assert first != second and len(index) == 2


def test_lookup_probes_only_the_items_own_keys(monkeypatch) -> None:
    index: ItemIndex[None] = ItemIndex.of(Item(Kind.MOVIE, Ids(imdb=f"tt{n:07d}", tmdb=n)) for n in range(1, 20_001))
    probes = 0
    real = index._by_key.get

    def counting_get(key, default=None):
        nonlocal probes
        probes += 1
        return real(key, default)

    monkeypatch.setattr(index, "_by_key", type("D", (dict,), {"get": staticmethod(counting_get)})(index._by_key))
    assert index.find(Item(Kind.MOVIE, Ids(imdb="tt0012345"))) is not None
    assert probes <= len(Item(Kind.MOVIE, Ids(imdb="tt0012345")).identity_keys())
