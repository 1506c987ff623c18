"""Tests of `make mutate` (scripts/mutate.py)."""
