"""Sequences of user actions and commands over the fakes, checked against a small independent model."""
