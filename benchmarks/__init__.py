"""Benchmarks: each prints one JSON line (run from the repository root with python -m)."""
