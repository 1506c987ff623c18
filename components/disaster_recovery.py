"""The standby side of disaster recovery: follow the primary (its project files every minute, its nightly
archive), report how far behind it is, fail over."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import pulumi
import pulumi_command as command

from components.backups import BackupSettings
from components.config import DrConfig, HostConfig, ReplicationMode, Settings, SiteConfig
from components.deploy_gates import PrimarySite
from components.host_access import HostAccess, ssh_argv
from components.host_tools import install_tool, schedule_tool
from components.master_layout import DATABASE_USER
from components.ordering import After
from components.postgres_streaming import primary_conninfo, slot_name
from components.script_templates import render_script

# A file sync older than this is reported as broken replication (the schedule runs every minute by default).
FILES_STALE_S = 600


class DisasterRecoverySettings(Settings):
    config: DrConfig
    backups: BackupSettings
    master_address: str

    @classmethod
    def of(cls, site: SiteConfig) -> DisasterRecoverySettings:
        assert site.dr is not None, "only a standby has disaster recovery"
        return cls(config=site.dr, backups=BackupSettings.of(site), master_address=site.master.address)

    @property
    def incoming_directory(self) -> str:
        return self.backups.config.incoming_directory

    @property
    def files_state(self) -> str:
        """Where the file sync records its last run (what the status tool reads the files' lag from)."""
        return f"{self.backups.config.directory}/file-sync.state"


def render_status(settings: DisasterRecoverySettings, primary: PrimarySite) -> str:
    """The replication status tool of a streaming standby (codenvy-replication-<site>)."""
    return render_script(
        "replication_status",
        container=settings.backups.data.postgres_container,
        database_user=DATABASE_USER,
        files_stale_s=str(FILES_STALE_S),
        primary_conninfo=primary_conninfo(primary),
        site_name=settings.backups.site_name,
        slot=slot_name(settings.master_address),
        state_file=settings.files_state,
    )


def render_transfer(settings: DisasterRecoverySettings, primary: PrimarySite) -> str:
    """The standby's transfer job: fetch the primary's newest archive, then restore (hot) or stage (cold)."""
    dr = settings.config
    return render_script(
        "transfer",
        database_user=DATABASE_USER,
        fs_volume=settings.backups.data.fs_volume,
        incoming_dir=settings.incoming_directory,
        key_file=dr.ssh_key_file,
        # A hot standby without streaming restores each archive; otherwise it is staged (a replica cannot
        # take a restore, a cold standby's database is stopped).
        mode="restore" if dr.standby == "hot" and dr.replication is ReplicationMode.ARCHIVE else "stage",
        postgres=settings.backups.data.postgres_container,
        primary_addr=primary.manager_address,
        primary_host_key=dr.primary_ssh.host_key or "",
        primary_port=str(dr.primary_ssh.port),
        primary_site=primary.site_name,
        primary_user=dr.primary_ssh.user,
        restore_tool=settings.backups.toolbox.path("restore"),
        state_file=settings.files_state,
    )


def render_promotion_restore(settings: DisasterRecoverySettings) -> str:
    """What a cold standby's promoting `up` runs: the restore tool on the newest staged archive."""
    backups = settings.backups
    return render_script(
        "promotion_restore",
        incoming_dir=settings.incoming_directory,
        postgres=backups.data.postgres_container,
        restore_tool=backups.toolbox.path("restore"),
        site_name=backups.site_name,
    )


@dataclass(frozen=True, kw_only=True)
class DisasterRecoveryArgs:
    """What DisasterRecovery reads, and the resources it needs."""

    settings: DisasterRecoverySettings
    primary: PrimarySite
    master: HostAccess
    after: After


class DisasterRecovery(pulumi.ComponentResource):
    """On the standby master: a check that the primary's registry answers, and, until promotion, the
    transfer tool (`codenvy-transfer-<site>`) with its crontab lines (the nightly archive; the project files
    when streaming) and, when streaming, the status tool (`codenvy-replication-<site>`) that every preview
    and up asks. Promotion removes them (their resources' deletes remove the tools and the lines); the
    database is promoted and the Site exports the DNS record. The database itself is MasterNode's."""

    def __init__(self, name: str, args: DisasterRecoveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:DisasterRecovery", name, None, opts)
        dr = args.settings.config
        # The gate already compared the primary's outputs before anything was registered; the reference
        # records the relation in the stack, where previews and policies see it.
        self.primary = pulumi.StackReference(
            f"{name}-primary", stack_name=args.primary.stack, opts=pulumi.ResourceOptions(parent=self)
        )
        # A Command runs again only when its inputs change: this check, when the pair moves to another version
        # or the primary's registry address changes.
        args.master.run(
            f"{name}-primary-registry",
            render_script("registry_reachable", node_name=args.master.name, registry=args.primary.registry),
            triggers=[args.primary.version],
            parent=self,
        )
        if not dr.promote:
            self._transfer(name, args.settings, args.primary, args.master, args.after)
        elif dr.standby == "cold":
            self._restore_staged(name, args.settings, args.master, args.after)
        self.register_outputs({"primary": args.primary.stack, "promoted": dr.promote})

    def _transfer(
        self,
        name: str,
        settings: DisasterRecoverySettings,
        primary: PrimarySite,
        master: HostAccess,
        after: After,
    ) -> None:
        toolbox, dr = settings.backups.toolbox, settings.config
        script = render_transfer(settings, primary)
        tool = install_tool(master, f"{name}-transfer-tool", toolbox, "transfer", script, self, after)
        if dr.transfer_schedule is not None:
            log_file = f"{settings.incoming_directory}.log"
            schedule = dr.transfer_schedule
            schedule_tool(master, f"{name}-transfer-schedule", toolbox, "transfer", schedule, log_file, self, [tool])
        if dr.replication is ReplicationMode.STREAMING:
            log_file = f"{settings.files_state}.log"
            schedule = dr.file_sync_schedule
            schedule_tool(
                master, f"{name}-file-sync-schedule", toolbox, "transfer", schedule, log_file, self, [tool], job="files"
            )
            status = render_status(settings, primary)
            install_tool(master, f"{name}-status-tool", toolbox, "replication", status, self, after)
            self._report_replication(master, toolbox.path("replication"))

    def _report_replication(self, master: HostAccess, tool: str) -> None:
        """Every preview and up asks the status tool, through the same ssh(1) as the Docker provider, and
        warns when replication is broken: a standby that fell behind for good is never silently stale."""
        answer = command.local.run_output(command=status_command(master.config, tool))
        answer.stdout.apply(lambda text: _warn_unless_healthy(text or "", self))

    def _restore_staged(self, name: str, settings: DisasterRecoverySettings, master: HostAccess, after: After) -> None:
        """A cold standby only staged its archives; the promoting `up` restores the newest into the services
        it has just started."""
        master.run(f"{name}-promotion-restore", render_promotion_restore(settings), parent=self, after=after)


# What the status check says before the first `up` installed the tool (the check runs while the program
# does, before any resource is made).
NOT_CHECKED = "replication: not checked yet"


def status_command(host: HostConfig, tool: str) -> str:
    """A command line, for this machine, that prints the status tool's answer on `host` and never fails."""
    not_installed = shlex.quote(f"{NOT_CHECKED}: {tool} is installed by this up")
    run_tool = f"if [ -x {shlex.quote(tool)} ]; then {shlex.quote(tool)} --check; else echo {not_installed}; fi"
    unknown = shlex.quote(f"replication: unknown: {tool} did not answer on {host.name}")
    if host.ssh is None:
        return f"{run_tool} 2>&1 || echo {unknown}"
    ssh = ssh_argv(host)
    if host.ssh.host_key is None:
        return f"{shlex.join(ssh)} {host.address} {shlex.quote(run_tool)} 2>&1 || echo {unknown}"
    # The pinned key only, as the Commands check it; ssh looks a host on another port up as [address]:port.
    # printf's format is a constant: a key's comment may hold % or \, which a format would expand.
    known = f"{host.address} {host.ssh.host_key}\n[{host.address}]:{host.ssh.port} {host.ssh.host_key}\n"
    return (
        f'known=$(mktemp) && printf %s {shlex.quote(known)} > "$known" && '
        f'{shlex.join(ssh)} -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$known" {host.address} '
        f'{shlex.quote(run_tool)} 2>&1 || echo {unknown}; rm -f "$known"'
    )


def _warn_unless_healthy(answer: str, resource: pulumi.Resource) -> None:
    verdict = (answer.strip().splitlines() or [""])[-1]
    if verdict.startswith(NOT_CHECKED):
        pulumi.log.info(verdict, resource)
    elif not verdict.endswith(": healthy"):
        pulumi.log.warn(answer.strip(), resource)
