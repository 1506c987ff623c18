"""The simulated cluster's shared pieces: what a node is (node.py) and the bash programs it runs (templates.py)."""
