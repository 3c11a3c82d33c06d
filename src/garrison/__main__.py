"""`python -m garrison` runs the command line."""

from garrison.cli.main import run

run()
