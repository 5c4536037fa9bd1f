"""Benchmarks of the task engine (not tests): run `python -m benchmarks.engine_benchmark --help`."""
