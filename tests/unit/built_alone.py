"""A component built alone under a parent of its own, from settings a test makes, and what it registers."""

from __future__ import annotations

import pulumi

from components.certificate_authority import (
    CertificateAuthority,
    CertificateAuthorityArgs,
    CertificateAuthoritySettings,
)
from components.config import HostConfig, LogConfig
from components.containers import ContainerSettings
from components.host_access import HostAccess, connect_host
from tests.harness import Evaluation, run_under_mocks

COMMANDS = ("command:local:Command", "command:remote:Command")


LOCAL = HostConfig(name="here", address="127.0.0.1")


SHARED = ContainerSettings(site_name="unit", logs=LogConfig(), running=True)


ONE_CA = CertificateAuthoritySettings(site_name="unit", trusted=(1,), signing=1)


def built(make) -> Evaluation:
    """What `make(parent)` registers, under a parent component of its own."""

    def program() -> None:
        make(pulumi.ComponentResource("codenvy:test:Holder", "holder"))

    return run_under_mocks(program, stack="unit", config={})


def local_host_and_site_ca(parent: pulumi.Resource) -> tuple[HostAccess, CertificateAuthority]:
    """This machine as the master and a site CA of one generation, under `parent`: what a master's part needs."""
    host = connect_host("unit", LOCAL, None, parent)
    ca = CertificateAuthority(
        "unit-ca", CertificateAuthorityArgs(settings=ONE_CA), pulumi.ResourceOptions(parent=parent)
    )
    return host, ca
