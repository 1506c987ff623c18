"""Tests of the Resource API client (components/resource_api.py)."""
