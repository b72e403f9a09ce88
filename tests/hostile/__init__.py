"""Hostile input, in process and over a socket to `newsgraph serve`."""
