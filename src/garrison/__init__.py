"""Garrison: the coordination platform of a regional CSIRT and the organisations it protects."""

__version__ = "0.1.0"
