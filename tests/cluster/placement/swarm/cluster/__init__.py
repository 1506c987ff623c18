"""Engines, containers, images and networks as swarm tracks them (cluster/)."""
