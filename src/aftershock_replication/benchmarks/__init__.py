"""Benchmarks: scale of the pipeline, operating characteristics of the verdicts, the demo's
planted truths, speed of the statistics."""
