"""Benchmarks (not tests). `python -m bench` runs them all and rewrites bench/RESULTS.md."""
