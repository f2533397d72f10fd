"""Services describe themselves: the wizard and the login helper read the registry, not lists kept by hand."""

from __future__ import annotations

from pathlib import Path

import click

from totalrecall import registries, wizard
from totalrecall.config.editing import config_table
from totalrecall.config.settings import BUILTIN_SERVICES


def _with_login() -> dict[str, type]:
    registries.load_all()
    return {name: service for name, service in registries.services.items()
            if isinstance(getattr(service, "config_command", None), click.Command)}


def test_every_service_with_a_login_command_says_how_it_is_shown_and_what_it_keeps() -> None:
    services = _with_login()
    assert set(services) >= {"trakt", "simkl", "imdb", "plex"}
    for name, service in services.items():
        assert service.title, name
        assert service.credential_keys, name
        assert service.config_command.name == name  # `totalrecall config <name>`


def test_the_wizard_asks_in_the_order_the_services_declare() -> None:
    asked = wizard.wizard_services()
    assert [name for name, _title in asked] == ["trakt", "simkl", "imdb", "plex"]
    assert dict(asked)["imdb"] == "IMDb"
    assert wizard.logged_in_key("plex") == "plex_token"


def test_each_service_names_its_own_config_table() -> None:
    assert config_table("trakt") == ("trakt",) and config_table("simkl") == ("simkl",)
    assert config_table("imdb") == ("sources", "imdb") and config_table("plex") == ("sources", "plex")
    assert config_table("files") == ("sources", "files")
    for name in BUILTIN_SERVICES:
        assert config_table(name)[-1] == name


def test_each_base_url_is_written_once_in_its_settings_section() -> None:
    """Connectors fall back on the section's own default (section_default), never on a copy of it."""
    import attrs

    from totalrecall.config import sections

    package = Path(sections.__file__).resolve().parents[1]
    urls = {
        field.default
        for section in (sections.TraktSettings, sections.SimklSettings, sections.ImdbSettings, sections.PlexSettings)
        for field in attrs.fields(section)
        if field.name.endswith("_url") and isinstance(field.default, str) and field.default
    }
    assert len(urls) == 6, urls
    sources = {path: path.read_text(encoding="utf-8") for path in package.rglob("*.py") if "sandbox" not in path.parts}
    for url in urls:
        holders = [str(path.relative_to(package)) for path, text in sources.items() if f'"{url}"' in text]
        assert holders == ["config/sections.py"], (url, holders)
