"""The standby side of disaster recovery: reach the primary, pull its backups nightly, fail over."""

from __future__ import annotations

import pulumi

from components.backups import BackupSettings
from components.config import DrConfig, Settings, SiteConfig
from components.deploy_gates import PrimarySite
from components.host_access import HostAccess
from components.host_tools import install_tool, schedule_tool
from components.script_templates import render_script


class DisasterRecoverySettings(Settings):
    config: DrConfig
    backups: BackupSettings

    @classmethod
    def of(cls, site: SiteConfig) -> DisasterRecoverySettings:
        assert site.dr is not None, "only a standby has disaster recovery"
        return cls(config=site.dr, backups=BackupSettings.of(site))

    @property
    def incoming_directory(self) -> str:
        return self.backups.config.incoming_directory


def render_transfer(settings: DisasterRecoverySettings, primary: PrimarySite) -> str:
    """The standby's transfer job: fetch the primary's newest archive, then restore (hot) or stage (cold)."""
    dr = settings.config
    return render_script(
        "transfer",
        incoming_dir=settings.incoming_directory,
        key_file=dr.ssh_key_file,
        mode=dr.standby,
        primary_addr=primary.manager_address,
        primary_backup_dir=primary.backup_directory,
        primary_host_key=dr.primary_ssh.host_key or "",
        primary_port=str(dr.primary_ssh.port),
        primary_site=primary.site_name,
        primary_user=dr.primary_ssh.user,
        restore_tool=settings.backups.toolbox.path("restore"),
    )


class DisasterRecovery(pulumi.ComponentResource):
    """On the standby master: a check that the primary's registry answers, and, until promotion, the
    transfer job (`codenvy-transfer-<site>`) and its crontab line. Promotion removes both (their resources'
    deletes remove the tool and the line); the Site then starts the services and exports the DNS record."""

    def __init__(
        self,
        name: str,
        settings: DisasterRecoverySettings,
        primary: PrimarySite,
        master: HostAccess,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("codenvy:infra:DisasterRecovery", name, None, opts)
        dr = settings.config
        # The gate already compared the primary's outputs before anything was registered; the reference
        # records the relation in the stack, where previews and policies see it.
        self.primary = pulumi.StackReference(
            f"{name}-primary", stack_name=primary.stack, opts=pulumi.ResourceOptions(parent=self)
        )
        # Commands run once; this check runs again when the pair moves to another version (a change of the
        # primary's registry address changes the script and re-runs it too).
        master.run(
            f"{name}-primary-registry",
            render_script("registry_reachable", node_name=master.name, registry=primary.registry),
            triggers=[primary.version],
            parent=self,
        )
        if not dr.promote:
            self._transfer(name, settings, primary, master, depends_on)
        elif dr.standby == "cold":
            self._restore_staged(name, settings, master, depends_on)
        self.register_outputs({"primary": primary.stack, "promoted": dr.promote})

    def _transfer(
        self,
        name: str,
        settings: DisasterRecoverySettings,
        primary: PrimarySite,
        master: HostAccess,
        depends_on: list[pulumi.Resource],
    ) -> None:
        toolbox = settings.backups.toolbox
        script = render_transfer(settings, primary)
        tool = install_tool(master, f"{name}-transfer-tool", toolbox, "transfer", script, self, depends_on)
        schedule = settings.config.transfer_schedule
        if schedule is not None:
            log_file = f"{settings.incoming_directory}.log"
            schedule_tool(master, f"{name}-transfer-schedule", toolbox, "transfer", schedule, log_file, self, [tool])

    def _restore_staged(
        self, name: str, settings: DisasterRecoverySettings, master: HostAccess, depends_on: list[pulumi.Resource]
    ) -> None:
        """A cold standby only staged its archives; the promoting `up` restores the newest into the services
        it has just started."""
        backups = settings.backups
        master.run(
            f"{name}-promotion-restore",
            render_script(
                "promotion_restore",
                incoming_dir=settings.incoming_directory,
                postgres=backups.data.postgres_container,
                restore_tool=backups.toolbox.path("restore"),
                site_name=backups.site_name,
            ),
            parent=self,
            depends_on=depends_on,
        )
