"""A streaming DR pair evaluated from the shipped dev and dr stack files, each master on a host of its own:
the primary lists the standby's master, the standby reads the primary's real exports."""

from __future__ import annotations

import base64
import functools
import io
import tarfile

from tests.harness.evaluation import evaluate
from tests.harness.records import Evaluation
from tests.harness.stacks import full_stack_name

PRIMARY_STACK = full_stack_name("dev")
PRIMARY_MASTER, STANDBY_MASTER = "10.9.0.1", "10.9.0.2"
# The public half of the standby master's transfer key (dr.sshKeyFile), which the primary lists.
STANDBY_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3x9f0kQm8pN2sVt6yW1zC4dE7gH0jK3lM6nP9qR2sT root@standby"


def master(address: str) -> dict:
    return {"name": "master", "address": address, "hostWorkspaces": True, "ramGb": 8, "cpus": 2}


@functools.cache
def streaming_primary() -> Evaluation:
    return evaluate(
        "dev",
        {
            "codenvy-infra:master": master(PRIMARY_MASTER),
            "codenvy-infra:replication": {"standbyAddresses": [STANDBY_MASTER], "standbyKeys": [STANDBY_KEY]},
        },
        stack_outputs={},
    )


def streaming_standby(**dr) -> Evaluation:
    """The dr stack file's standby on STANDBY_MASTER, streaming, with `dr` settings over the defaults."""
    settings = {"primaryStack": PRIMARY_STACK, "standby": "hot", "transferSchedule": None, **dr}
    overrides = {"codenvy-infra:master": master(STANDBY_MASTER), "codenvy-infra:dr": settings}
    return evaluate("dr", overrides, stack_outputs={PRIMARY_STACK: streaming_primary().exports})


@functools.cache
def following_standby() -> Evaluation:
    return streaming_standby()


@functools.cache
def promoted_standby() -> Evaluation:
    return streaming_standby(promote=True)


def config_files(evaluation: Evaluation, site: str) -> dict[str, str]:
    """The files the site's PostgreSQL configuration volume is written from (pg_hba.conf, TLS, password files)."""
    bundle = evaluation.named(f"{site}-master-replication-config").inputs["stdin"]
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(bundle))) as tar:
        return {member.name: tar.extractfile(member).read().decode() for member in tar.getmembers()}
