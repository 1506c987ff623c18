"""Tests of the workspace network (components/workspace_network.py)."""
