"""Service connectors, one module or package each; `registries.load_all()` imports (registers) them all."""
