"""Sandbox services, one module each; importing this package registers every one of them."""

from totalrecall.discovery import import_submodules

import_submodules(__name__)
