"""Tests of the benchmarks package (no torch or Stable-Baselines3 needed; those that need them skip)."""
