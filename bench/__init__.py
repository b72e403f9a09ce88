"""Benchmarks: the synthetic corpus generator (`python -m bench.corpus`)."""
