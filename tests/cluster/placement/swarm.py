"""The stand-in's former single-file path, kept for importers that load it by path: the stand-in is the package
beside it (tests/cluster/placement/swarm/), whose names this re-exports. Remove it once nothing loads this file."""

from tests.cluster.placement.swarm import *  # noqa: F403
