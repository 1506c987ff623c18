"""The swarm cluster driver (cluster/swarm/)."""
