"""The registry: organisations, contacts, networks, domains, assets and their software."""
