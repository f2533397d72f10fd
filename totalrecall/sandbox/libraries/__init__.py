"""Sandbox services, one module each; `load_sandbox_services()` imports (registers) them all."""
