"""IMDb in export-file mode synced to the real Trakt connector on the fake Trakt: every title arrives or is
excluded as not found."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from totalrecall.cli import cli
from totalrecall.config.credentials import CredentialStore
from totalrecall.model import Kind
from totalrecall.sandbox.catalogue import load_catalogue
from totalrecall.sandbox.fake_trakt import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, FakeTrakt
from totalrecall.sources.imdb.exports import parse_export_file, ratings_of, watchlist_of
from totalrecall.sources.trakt.api import token_values

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imdb"
SCALE = 0.01
UNKNOWN = "tt9900002"  # on the watchlist export; in no service's catalogue



def _trakt_imdb_ids(fake: FakeTrakt, section: str) -> dict[str, object]:
    """The fake Trakt's section as {imdb id: rating (or True)}, through the shared catalogue."""
    catalogue = load_catalogue()
    held: dict[str, object] = {}
    for row in fake.library()[section]:
        ref = row["ref"]
        entry = catalogue.get("trakt", ref["trakt"], Kind(ref["type"]))
        held[entry.ids.imdb or ""] = row.get("rating", True)
    return held


def test_export_files_reach_trakt_and_unknown_titles_are_excluded_as_not_found(tmp_path: Path) -> None:
    exports = tmp_path / "imdb-exports"
    exports.mkdir()
    for name in ("ratings-classic.csv", "watchlist-2024.csv"):
        shutil.copy(FIXTURES / name, exports / name)
    ratings = {r.item.ids.imdb: r.value for r in ratings_of(parse_export_file(exports / "ratings-classic.csv").rows)}
    watchlist = {w.item.ids.imdb for w in watchlist_of(parse_export_file(exports / "watchlist-2024.csv").rows)}
    catalogue = load_catalogue()
    known = {imdb for imdb in {*ratings, *watchlist} if catalogue.find("imdb", imdb) is not None}
    assert UNKNOWN in watchlist and UNKNOWN not in known
    unknown = {*ratings, *watchlist} - known

    base = tmp_path / "base"
    base.mkdir()
    with FakeTrakt(time_scale=SCALE) as fake:
        (base / "config.toml").write_text(
            f'[trakt]\nenabled = true\nclient_id = "{SANDBOX_CLIENT_ID}"\nclient_secret = "{SANDBOX_CLIENT_SECRET}"\n'
            f'api_url = "{fake.url}"\n\n'
            f'[sources.imdb]\nenabled = true\ncsv_dir = "{exports}"\n\n'
            '[resolution]\nsource_preference = ["imdb", "trakt"]\n'
        )
        CredentialStore(base / "credentials.toml").update(token_values(fake.issue_tokens()))
        result = CliRunner().invoke(cli, ["sync"], env={"TOTALRECALL_BASE_PATH": str(base)})
        assert result.exit_code == 0, result.output

        # Every rating and watchlist title of the exports that Trakt knows is on Trakt now, ratings as given.
        held_ratings = _trakt_imdb_ids(fake, "ratings")
        assert held_ratings == {imdb: value for imdb, value in ratings.items() if imdb in known}
        assert set(_trakt_imdb_ids(fake, "watchlist")) == watchlist & known
        assert len(held_ratings) >= 5 and len(watchlist & known) == 3

        # The rest is listed in Trakt's excluded.json as not found, each under its data type.
        excluded = json.loads((base / "data" / "cache" / "distribute" / "trakt" / "excluded.json").read_text())
        listed = {
            (data_type, json.dumps(record, sort_keys=True))
            for data_type, records in excluded.items() if isinstance(records, list) for record in records
        }
        for imdb in unknown:
            data_types = {"watchlist"} if imdb in watchlist else set()
            data_types |= {"ratings"} if imdb in ratings else set()
            for data_type in data_types:
                reasons = [json.loads(text)["reason"] for kind, text in listed if kind == data_type and imdb in text]
                assert reasons and all(reason.startswith("not_found") for reason in reasons), (imdb, excluded)
        assert not any(imdb in text for _, text in listed for imdb in known)

        # IMDb's export files are never written: a second sync plans nothing for Trakt.
        fake.clear_log()
        again = CliRunner().invoke(cli, ["sync"], env={"TOTALRECALL_BASE_PATH": str(base)})
        assert again.exit_code == 0, again.output
        assert [r for r in fake.requests if r.method != "GET"] == []
