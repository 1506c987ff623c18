"""Tests of the config seam (components/config_loader.py)."""
