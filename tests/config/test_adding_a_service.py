"""Adding a service is one package plus tests: a service registered here, and nowhere in config/, is parsed,
shown by `config show` and named by the schema like the built-in ones."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
import pytest

from totalrecall import registries
from totalrecall.config.checks import setting, url
from totalrecall.config.display import render_config
from totalrecall.config.paths import Paths
from totalrecall.config.servicesection import ServiceSection
from totalrecall.config.settings import load_settings, parse_settings, to_toml
from totalrecall.errors import ConfigError
from totalrecall.model import Capabilities, DataType, Entry, HistoryGranularity
from totalrecall.pipeline.schema import pipeline_schema
from totalrecall.sources.base import Service, WriteResult

NAME = "tinyflix"
API_KEY = "tf-0123456789abcdef0123"


@attrs.frozen
class TinyflixSettings(ServiceSection):
    api_url: str = setting("https://api.tinyflix.example", check=url)
    api_key: str = ""
    shelves: list[str] = attrs.field(factory=list)


class TinyflixService(Service):
    """The smallest service there is: ratings, read-only, with a table of its own under [sources]."""

    name = NAME
    title = "Tinyflix"
    wizard_order = 90
    config_table = f"sources.{NAME}"
    settings_section = TinyflixSettings
    capabilities = Capabilities(
        reads=frozenset({DataType.RATINGS}), writes=frozenset(), history=HistoryGranularity.WATCHED_FLAG
    )

    def read(self, data_type: DataType) -> list[Entry]:
        return []

    def write(self, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult:
        return WriteResult()


@pytest.fixture
def tinyflix() -> Iterator[type[Service]]:
    registries.load_all()
    registries.services.register(NAME)(TinyflixService)
    try:
        yield TinyflixService
    finally:
        # Registries keep what registers for the life of the process (plugins load once); a test's own
        # service must not outlive the test, or the committed schema would stop matching for the others.
        registries.services._entries.pop(NAME)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_its_section_is_parsed_with_its_own_defaults_and_checks(tinyflix: type[Service]) -> None:
    settings = parse_settings({"sources": {NAME: {"enabled": True, "shelves": ["films"]}}}, environ={})
    section = settings.section(NAME)
    assert isinstance(section, TinyflixSettings)
    assert (section.api_url, section.shelves) == ("https://api.tinyflix.example", ["films"])
    assert settings.enabled_services() == [NAME]
    assert settings.service_options(NAME)["api_url"] == "https://api.tinyflix.example"
    assert f"[sources.{NAME}]" in to_toml(settings)


def test_its_problems_are_located_by_full_path_and_key(tinyflix: type[Service], tmp_path: Path) -> None:
    path = _write(tmp_path, f'[sources.{NAME}]\nenabled = true\napi_url = "ftp://x"\ncolour = "red"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.problems == [
        f'{path}: [sources.{NAME}] api_url: must be an http:// or https:// URL, got "ftp://x"',
        f"{path}: [sources.{NAME}] colour: unknown key",
    ]


def test_config_show_shows_it_with_its_secret_masked(tinyflix: type[Service], tmp_path: Path) -> None:
    _write(tmp_path, f'[sources.{NAME}]\nenabled = true\napi_key = "{API_KEY}"\n')
    shown = render_config(paths=Paths(tmp_path))
    assert f"[sources.{NAME}]" in shown
    assert API_KEY not in shown and "api_key" in shown


def test_the_schema_names_it_with_its_capabilities(tinyflix: type[Service]) -> None:
    schema = pipeline_schema()
    assert NAME in schema["$defs"]["serviceName"]["enum"]
    # It holds ratings only: the per-capability blocks refuse `data: [watchlist]` for it, with the reason.
    refused = {block["then"]["properties"]["data"]["items"]["not"]["const"]
               for block in json.loads(json.dumps(schema))["$defs"]["serviceObject"]["allOf"]
               if block["if"]["properties"].get("name") == {"const": NAME}}
    assert refused == {"watchlist", "reviews", "watch_history"}


def test_without_it_config_toml_does_not_know_it() -> None:
    with pytest.raises(ConfigError, match=f"sources.{NAME}"):
        parse_settings({"sources": {NAME: {"enabled": True}}}, environ={})
