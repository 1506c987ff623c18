"""A container create whose pull fails on the chosen engine, retried as the stand-in does against docker/swarm v1.2.8's
own rules; expected values come from swarm's source (cited per test), worked out by hand, never read back from the
stand-in."""

from __future__ import annotations

import re

import pytest

from tests.unit.swarm.standin import GIB, container, engine, settings, swarm


def codenvy_container_config():
    """What Che's MachineProviderImpl.createContainer sends after the build: the built image, the maintenance
    constraint from machine.docker.machine_env (codenvy OnPremisesIdeApiModule.java:400-405), no affinity."""
    body = {"Image": "eclipse-che/ws1", "Env": ["constraint:com.codenvy.node-state!=maintenance"]}
    return swarm.ContainerConfig.build(body, {"Memory": 2 * GIB}, {})


def creating_cluster(pull_error: str, create_retry: int = 0):
    """n1 lacks eclipse-che/ws1 and fails its create with pull_error (engine.go:1113-1128 pulls, then returns the
    pull's error); n2 holds the image and has a container more, so spread tries n1 first. Each create is recorded."""
    empty, holder = engine("n1", addr="10.0.0.1:2376"), engine("n2", addr="10.0.0.2:2376")
    holder.images = [{"Id": "sha256:" + "ab" * 32, "RepoTags": ["eclipse-che/ws1:latest"]}]
    container(holder, "other")
    tried = []

    def create_on(owner, failure):
        def create(config, name, pull_image, auth):
            tried.append(owner.name)
            if failure:
                raise swarm.EngineError(failure)
            return container(owner, name)

        return create

    empty.create_container, holder.create_container = create_on(empty, pull_error), create_on(holder, "")
    made = swarm.Cluster(swarm.Scheduler("spread", list(swarm.FILTERS)), settings(create_retry=create_retry))
    made.engines = {e.id: e for e in (empty, holder)}
    return made, tried


def test_a_create_whose_pull_says_the_repository_does_not_exist_retries_with_image_affinity():
    # cluster/swarm/cluster.go:172-183: Docker Hub's answer for a repository that is not there matches
    hub = "Error response from daemon: pull access denied for eclipse-che/ws1, repository does not exist or may"
    made, tried = creating_cluster(hub + " require 'docker login': denied: requested access to the resource is denied")
    created = made.create_container(codenvy_container_config(), "ws1", None)
    assert (created.engine.name, tried) == ("n2", ["n1", "n2"])


def test_a_create_whose_pull_cannot_reach_the_registry_is_not_retried_with_affinity():
    # cluster.go:172-188: a lookup failure matches none of the three patterns; createretry tries spread's pick again
    unreachable = 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup failed'
    made, tried = creating_cluster(unreachable, create_retry=2)
    with pytest.raises(swarm.EngineError, match="^" + re.escape(unreachable) + "$"):
        made.create_container(codenvy_container_config(), "ws1", None)
    assert tried == ["n1", "n1", "n1"]
