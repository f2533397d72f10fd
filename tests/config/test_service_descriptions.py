"""Services describe themselves: the wizard and the login helper read the registry, not lists kept by hand."""

from __future__ import annotations

from pathlib import Path

import click

from totalrecall import registries, wizard
from totalrecall.config.editing import config_table
from totalrecall.config.servicetables import service_tables
from totalrecall.model import Ids


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
    assert [table.name for table in service_tables()] == ["trakt", "simkl", "imdb", "plex"]
    for table in service_tables():
        assert config_table(table.name)[-1] == table.name


def test_each_base_url_is_written_once_in_its_settings_section() -> None:
    """Connectors fall back on the section's own default (section_default), never on a copy of it; the
    section is the service package's own."""
    import attrs

    import totalrecall

    package = Path(totalrecall.__file__).resolve().parent
    registries.load_all()
    holders_by_url = {
        field.default: f"sources/{service.__module__.split('.')[2]}/settings.py"
        for _, service in registries.services.items()
        for field in attrs.fields(service.settings_section)
        if field.name.endswith("_url") and isinstance(field.default, str) and field.default
    }
    assert len(holders_by_url) == 6, holders_by_url
    sources = {path: path.read_text(encoding="utf-8") for path in package.rglob("*.py") if "sandbox" not in path.parts}
    for url, home in holders_by_url.items():
        holders = [str(path.relative_to(package)) for path, text in sources.items() if f'"{url}"' in text]
        assert holders == [home], (url, holders)


def test_the_id_namespaces_services_declare_are_the_fields_of_ids() -> None:
    """model.Ids stays a fixed attrs class (see its docstring); this keeps it equal to what services declare,
    so a service that brings a new namespace fails here until Ids has the field."""
    import attrs

    registries.load_all()
    declared = {namespace for _, service in registries.services.items() for namespace in service.id_namespaces}
    assert declared == {field.name for field in attrs.fields(Ids)}


def test_every_service_with_a_sandbox_names_a_module_that_registers_its_fakes() -> None:
    import importlib

    from totalrecall.sandbox.plugins import sandbox_services

    registries.load_all()
    modules = {name: service.sandbox_module for name, service in registries.services.items() if service.sandbox_module}
    assert set(modules) == {"trakt", "simkl", "imdb", "plex", "files", "trakt_export", "letterboxd"}
    for module in modules.values():
        importlib.import_module(module)
    assert {"trakt", "simkl", "imdb", "plex", "trakt_export", "letterboxd"} <= set(sandbox_services.names())
