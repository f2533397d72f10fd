"""Tests of credentials.toml: atomic 0600 writes, merging writers, masking, and secret-free errors."""

from __future__ import annotations

import os
import threading
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from totalrecall.config.credentials import SECRET_KEYS, CredentialStore, is_secret, mask
from totalrecall.errors import ConfigError

TOKEN = "abcd1234secretvalue99"


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_missing_file_reads_as_empty(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "credentials.toml")
    assert store.keys() == []
    assert store.get("plex_token", "none") == "none"
    assert store.last_sync_timestamp("trakt", "ratings") is None


def test_set_writes_flat_toml_with_contract_keys(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "credentials.toml"
    store = CredentialStore(path)
    store.update({"trakt_access_token": TOKEN, "trakt_token_expires_at": "2030-01-02T03:04:05Z"})
    store.set("imdb_reviews_last_submitted", {"tt0111161": "2024-05-01T00:00:00Z"})
    assert tomllib.loads(path.read_text()) == {
        "trakt_access_token": TOKEN,
        "trakt_token_expires_at": "2030-01-02T03:04:05Z",
        "imdb_reviews_last_submitted": {"tt0111161": "2024-05-01T00:00:00Z"},
    }


@pytest.mark.parametrize(
    "value",
    ["2024-01-01T00:00:00Z", ["tt0111161", "tt0068646"], {"tt0111161": {"at": "2024-01-01T00:00:00Z"}}],
    ids=["string", "list", "table"],
)
def test_reviews_last_submitted_keeps_its_shape(tmp_path: Path, value: object) -> None:
    path = tmp_path / "credentials.toml"
    CredentialStore(path).set("imdb_reviews_last_submitted", value)
    assert CredentialStore(path).get("imdb_reviews_last_submitted") == value


def test_every_write_leaves_mode_0600_even_when_file_was_0644(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text('plex_token = "x"\n')
    path.chmod(0o644)
    store = CredentialStore(path)
    modes = []
    store.set("plex_token", "x")  # same value: still rewritten to fix the mode
    modes.append(_mode(path))
    store.set("simkl_access_token", TOKEN)
    modes.append(_mode(path))
    store.update({"imdb_password": "pw"})
    modes.append(_mode(path))
    store.delete(["imdb_password"])
    modes.append(_mode(path))
    store.set_last_sync_timestamp("plex", "watchlist", datetime(2024, 1, 1, tzinfo=UTC))
    modes.append(_mode(path))
    store.clear_timestamps()
    modes.append(_mode(path))
    assert modes == [0o600] * 6
    assert store.keys() == ["plex_token", "simkl_access_token"]


def test_writers_in_sequence_keep_each_others_keys(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    wizard, daemon = CredentialStore(path), CredentialStore(path)
    assert wizard.keys() == daemon.keys() == []  # both have read the (empty) file
    wizard.set("trakt_access_token", "from-wizard")
    daemon.set("plex_token", "from-daemon")
    wizard.set("trakt_refresh_token", "refresh")
    assert CredentialStore(path).as_dict() == {
        "trakt_access_token": "from-wizard",
        "plex_token": "from-daemon",
        "trakt_refresh_token": "refresh",
    }
    assert daemon.get("trakt_refresh_token") == "refresh"  # a reader sees another writer's change


def test_threads_writing_at_once_lose_no_key(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"

    def write(index: int) -> None:
        CredentialStore(path).set(f"last_sync_timestamp_s{index}_ratings", "2024-01-01T00:00:00Z")

    threads = [threading.Thread(target=write, args=(index,)) for index in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(CredentialStore(path).keys()) == 16


def test_none_deletes_and_datetime_is_stored_as_rfc3339(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    store = CredentialStore(path)
    store.update({"plex_token": "t", "trakt_token_expires_at": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)})
    store.set("plex_token", None)
    assert tomllib.loads(path.read_text()) == {"trakt_token_expires_at": "2030-01-02T03:04:05Z"}


def test_last_sync_timestamp_round_trip_and_clear(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    store = CredentialStore(path)
    when = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)
    store.set_last_sync_timestamp("trakt", "watch_history", when)
    store.set("plex_token", "keep")
    assert store.get("last_sync_timestamp_trakt_watch_history") == "2024-03-04T05:06:07Z"
    assert CredentialStore(path).last_sync_timestamp("trakt", "watch_history") == when
    store.clear_timestamps()
    assert store.keys() == ["plex_token"]


def test_toml_datetime_value_is_accepted_as_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text("last_sync_timestamp_simkl_ratings = 2024-01-01T10:00:00Z\n")
    assert CredentialStore(path).last_sync_timestamp("simkl", "ratings") == datetime(
        2024, 1, 1, 10, tzinfo=UTC
    )


def test_bad_timestamp_names_key_not_value(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text('last_sync_timestamp_plex_ratings = "yesterday-ish"\n')
    with pytest.raises(ConfigError) as caught:
        CredentialStore(path).last_sync_timestamp("plex", "ratings")
    assert str(caught.value) == "credentials.toml: last_sync_timestamp_plex_ratings: not an RFC 3339 time"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'plex_token = "' + TOKEN.encode() + b"\n", "credentials.toml: not valid TOML (line 1, column 36)"),
        (
            b'plex_token = "' + TOKEN.encode() + b'"\n' + TOKEN.encode() + b"\n",
            "credentials.toml: not valid TOML",
        ),
        (b'imdb_password = "\x00' + TOKEN.encode() + b'"\n', "credentials.toml: not valid TOML"),
        (b'imdb_password = "\xff\xfe' + TOKEN.encode() + b'"\n', "credentials.toml: not UTF-8 text"),
    ],
    ids=["unterminated-string", "bare-secret-line", "control-character", "not-utf8"],
)
def test_corrupt_file_is_a_config_error_without_values(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "credentials.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        CredentialStore(path).get("plex_token")
    message = "\n".join([str(caught.value), *caught.value.problems])
    assert message.startswith(expected)
    assert TOKEN not in message and TOKEN[:4] not in message and "\\x" not in message


def test_corrupt_file_is_not_overwritten_by_a_write(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    path.write_bytes(b"plex_token = = broken\n")
    with pytest.raises(ConfigError):
        CredentialStore(path).set("trakt_access_token", "t")
    assert path.read_bytes() == b"plex_token = = broken\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abcdefghijklmnop", "****mnop"),  # 16 characters: the last 4
        ("abcdefghijklmno", "****"),  # 15: nothing (Simkl's 11-character secret showed 6 before)
        ("abcdefghijk", "****"),
        ("", "****"),
        (12345678901234, "****"),
    ],
)
def test_mask(value: object, expected: str) -> None:
    assert mask(value) == expected


def test_masked_hides_every_secret_and_keeps_the_rest(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "credentials.toml")
    store.update(
        {
            "trakt_access_token": TOKEN,
            "trakt_refresh_token": "short",
            "imdb_password": "hunter2-but-longer",
            "plex_client_identifier": "client-id-visible",
            "last_sync_timestamp_trakt_ratings": "2024-01-01T00:00:00Z",
            "future_service_token": "another-long-token",
        }
    )
    assert store.masked() == {
        "future_service_token": "****oken",
        "imdb_password": "****nger",
        "last_sync_timestamp_trakt_ratings": "2024-01-01T00:00:00Z",
        "plex_client_identifier": "client-id-visible",
        "trakt_access_token": "****ue99",
        "trakt_refresh_token": "****",
    }


def test_secret_keys_cover_tokens_passwords_and_client_secrets() -> None:
    assert {
        "trakt_access_token",
        "trakt_refresh_token",
        "simkl_access_token",
        "imdb_password",
        "plex_token",
        "client_secret",
    } <= SECRET_KEYS
    assert all(is_secret(key) for key in SECRET_KEYS)
    assert not is_secret("plex_client_identifier") and not is_secret("trakt_token_expires_at")


def test_delete_accepts_a_single_key_name(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "credentials.toml")
    store.update({"plex_token": "a", "imdb_password": "b"})
    store.delete("plex_token")
    assert store.keys() == ["imdb_password"]


def test_no_write_when_nothing_changes_on_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    CredentialStore(path).clear_timestamps()
    assert not path.exists()
    assert os.listdir(tmp_path) == []
