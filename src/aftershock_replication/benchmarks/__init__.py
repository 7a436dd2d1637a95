"""Benchmarks: scale of the pipeline, null calibration of the tests, speed of the statistics."""
