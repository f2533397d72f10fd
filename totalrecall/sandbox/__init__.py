"""The built-in sandbox: fake services with sample libraries, so a full sync runs with no account."""
