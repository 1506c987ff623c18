"""How the program reaches one host: its docker.Provider and where its commands run."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker
from pydantic import SecretStr

from components.config import HostConfig
from components.rendering import as_command


@dataclass(frozen=True)
class HostAccess:
    """A host resolved once from config: the Docker API provider and the shell commands run through."""

    config: HostConfig
    provider: docker.Provider
    connection: command.remote.ConnectionArgs | None

    @property
    def name(self) -> str:
        return self.config.name

    def run(
        self,
        resource_name: str,
        script: pulumi.Input[str],
        *,
        parent: pulumi.Resource,
        delete_script: pulumi.Input[str] | None = None,
        triggers: list[pulumi.Input[str]] | None = None,
        depends_on: list[pulumi.Resource] | None = None,
        secret_stdout: bool = False,
    ) -> command.local.Command | command.remote.Command:
        """A Command running `script` on this host (locally or over SSH), `delete_script` when it is removed."""
        create = _as_command(script)
        delete = None if delete_script is None else _as_command(delete_script)
        opts = pulumi.ResourceOptions(
            parent=parent,
            depends_on=depends_on or [],
            additional_secret_outputs=["stdout"] if secret_stdout else None,
        )
        if self.connection is None:
            return command.local.Command(resource_name, create=create, delete=delete, triggers=triggers, opts=opts)
        return command.remote.Command(
            resource_name,
            connection=self.connection,
            create=create,
            delete=delete,
            triggers=triggers,
            opts=opts,
        )


def _as_command(script: pulumi.Input[str]) -> pulumi.Input[str]:
    # Most scripts are plain text; only those holding secrets or computed values need an Output.
    if isinstance(script, str):
        return as_command(script)
    return pulumi.Output.from_input(script).apply(as_command)


def connect_host(
    resource_prefix: str, host: HostConfig, private_key: SecretStr | None, parent: pulumi.Resource
) -> HostAccess:
    """One docker.Provider per host, and an SSH connection unless the host is this machine."""
    provider = docker.Provider(
        f"{resource_prefix}-{host.name}-docker",
        host=host.docker_endpoint,
        cert_path=host.docker_cert_path,
        ssh_opts=list(host.ssh.options) if host.ssh and host.ssh.options else None,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    connection = None
    if host.ssh is not None:
        connection = command.remote.ConnectionArgs(
            host=host.address,
            port=host.ssh.port,
            user=host.ssh.user,
            private_key=None if private_key is None else pulumi.Output.secret(private_key.get_secret_value()),
        )
    return HostAccess(config=host, provider=provider, connection=connection)
