"""How the program reaches one host: its docker.Provider and where its commands run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_docker as docker
from pydantic import SecretStr

from components.config import HostConfig
from components.ordering import After
from components.script_templates import as_command

# Every input of a remote Command. A lost host's Commands ignore changes to all of them, so the engine
# sees no difference and never asks the provider to run anything there (pulumi/pulumi step_generator.go
# processIgnoreChanges copies each listed input from the old state before the provider's Diff).
COMMAND_INPUTS = (
    "addPreviousOutputInEnv",
    "connection",
    "create",
    "delete",
    "environment",
    "logging",
    "stdin",
    "triggers",
    "update",
)


# Where the program keeps its own state on a host: the firewall's rules, and which resource owns the
# firewall and the swarm membership (delete scripts undo only what their own resource did).
STATE_DIR = "/etc/codenvy"


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
        update_script: pulumi.Input[str] | None = None,
        triggers: list[pulumi.Input[str]] | None = None,
        after: After = (),
        secret_stdout: bool = False,
        stdin: pulumi.Input[str] | None = None,
        aliases: list[pulumi.Input[str] | pulumi.Alias] | None = None,
    ) -> command.local.Command | command.remote.Command:
        """A Command running `script` on this host (locally or over SSH), `delete_script` when it is removed,
        and `update_script` instead of `script` when an input changes in place (pulumi-command runs `update`
        when set, else `create` again).

        Secrets go in `stdin`, never in the script: pulumi-command puts a failed command's whole text in its
        error, and the text is a process argument on the host. A secret stdout is kept out of the logs.
        Nothing is passed in the environment: sshd refuses variables it does not AcceptEnv, so the
        provider's PULUMI_COMMAND_STDOUT/STDERR for update and delete are turned off."""
        create = _as_command(script)
        delete = None if delete_script is None else _as_command(delete_script)
        opts = pulumi.ResourceOptions(
            parent=parent,
            depends_on=list(after),
            additional_secret_outputs=["stdout"] if secret_stdout else None,
            # A Command with a delete is replaced only when its triggers change or on `--replace`, i.e. at the
            # same URN: its delete must act before the new create, while it still owns what it made.
            delete_before_replace=delete is not None or None,
            aliases=aliases,
        )
        settings = {
            "create": create,
            "update": None if update_script is None else _as_command(update_script),
            "delete": delete,
            "triggers": triggers,
            "stdin": stdin,
            # stdout is still captured as an output when it is not logged (pulumi-command logging.go).
            "logging": "stderr" if secret_stdout else None,
            "add_previous_output_in_env": False,
        }
        if self.connection is None:
            return command.local.Command(resource_name, **settings, opts=opts)
        return command.remote.Command(resource_name, connection=self.connection, **settings, opts=opts)

    def forget(self, resource_name: str, *, parent: pulumi.Resource, after: After) -> command.remote.Command:
        """The resource `resource_name` of a lost host, kept only to leave the state without contacting the host:
        every input is ignored (the engine finds no difference and runs nothing), and when it is removed
        the engine drops it without calling the provider (retainOnDelete: deploy/step.go DeleteStep.Apply).
        With no `create`, a registration of a resource that never existed runs nothing either."""
        assert self.connection is not None, "validated: only SSH hosts can be lost"
        return command.remote.Command(
            resource_name,
            connection=self.connection,
            opts=pulumi.ResourceOptions(
                parent=parent,
                depends_on=after,
                ignore_changes=list(COMMAND_INPUTS),
                retain_on_delete=True,
            ),
        )


def ssh_argv(host: HostConfig) -> list[str]:
    """ssh(1) to `host` as the Docker provider reaches it (its key file and options), for tools run from this
    machine; the host's address goes last. Never prompts: a host it cannot reach fails within 10 s."""
    assert host.ssh is not None, "only remote hosts have ssh settings"
    ssh = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-p", str(host.ssh.port), "-l", host.ssh.user]
    return [*ssh, *(("-i", host.ssh.key_file) if host.ssh.key_file else ()), *host.ssh.options]


def _as_command(script: pulumi.Input[str]) -> pulumi.Input[str]:
    # Most scripts are plain text; only those holding computed values need an Output.
    if isinstance(script, str):
        return as_command(script)
    return pulumi.Output.from_input(script).apply(as_command)


def owner(resource_name: str) -> str:
    """What a delete script checks before it undoes anything: the resource that did it, in this stack. A
    renamed node's (or site's) new resources write their own name, so the old ones' deletes, which the
    engine runs after the new creates, find they no longer own the host's firewall or membership."""
    return f"{pulumi.get_project()}/{pulumi.get_stack()}/{resource_name}"


def connect_host(
    resource_prefix: str, host: HostConfig, private_key: SecretStr | None, parent: pulumi.Resource
) -> HostAccess:
    """One docker.Provider per host, and an SSH connection unless the host is this machine.

    The two reach the host differently: the provider runs the ssh(1) of this machine (docker/cli
    connhelper: `ssh … docker system dial-stdio`), so it reads ssh options and ~/.ssh/config; the Commands
    use pulumi-command's own SSH client, which takes only a private key or the ssh-agent and checks the
    host key only when given one (remote/connection.go). `ssh.keyFile` and `ssh.hostKey` feed both."""
    ssh = host.ssh
    key_file = ssh.key_file if ssh else None
    ssh_opts = [*(("-i", key_file) if key_file else ()), *(ssh.options if ssh else ())]
    provider = docker.Provider(
        f"{resource_prefix}-{host.name}-docker",
        host=host.docker_endpoint,
        cert_path=host.docker_cert_path,
        ssh_opts=ssh_opts or None,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    connection = None
    if ssh is not None:
        key = Path(key_file).expanduser().read_text() if key_file else None
        if key is None and private_key is not None:
            key = private_key.get_secret_value()
        connection = command.remote.ConnectionArgs(
            host=host.address,
            port=ssh.port,
            user=ssh.user,
            private_key=None if key is None else pulumi.Output.secret(key),
            host_key=ssh.host_key,
        )
    return HostAccess(config=host, provider=provider, connection=connection)
