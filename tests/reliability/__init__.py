"""Faults and lifetimes: database faults, graceful shutdown, no lost writes across a SIGKILL, apps
that are freed."""
