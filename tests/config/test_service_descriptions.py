"""Services describe themselves: the wizard and the login helper read the registry, not lists kept by hand."""

from __future__ import annotations

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
