"""Service connectors; importing this package registers every one of them."""
