"""Tests of `make status`'s probes (components/site_status.py)."""
