"""The `newsgraph` command line (api/cli.py) as a user runs it."""
