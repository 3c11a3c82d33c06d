"""The `garrison` command line: a thin adapter over the domain services."""
