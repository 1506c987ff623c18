"""Tests of the master node and what it registers (components/master_node.py)."""
