"""The benchmark's synthetic corpus (bench/)."""
