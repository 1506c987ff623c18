"""Tests of how the program reaches its hosts (components/host_access.py)."""
