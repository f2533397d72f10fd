"""What the setup wizard tells a Trakt user around the login: the VIP rule for API apps, and the export."""

from __future__ import annotations

__all__ = ["VIP_NOTE", "EXPORT_HINT"]

VIP_NOTE = (
    "Note: Trakt API apps need VIP. Since 2026-07-31 API apps are managed at developer.trakt.tv; free "
    "accounts' apps were deleted, and a free account may connect only one community app. You need the "
    "client id and secret of an API app of your own (redirect URI urn:ietf:wg:oauth:2.0:oob). "
    "Simkl's API stays free, and IMDb's export-file mode needs no account access."
)
EXPORT_HINT = (
    "No Trakt API app? Use your Trakt export: download it on trakt.tv (Settings → Data → Export) and add "
    '[sources.trakt_export] with enabled = true and path = "<the ZIP, or the folder you save exports to>" '
    "to config.toml; it is read like Trakt itself (read-only, each new export adds only what changed). "
    "Letterboxd works the same way: [sources.letterboxd] with enabled = true and export = \"<its export ZIP>\"."
)
