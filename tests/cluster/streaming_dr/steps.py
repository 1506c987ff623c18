"""What the streaming DR modules share: SQL and the site's tools on a site, and the pair's state on its hosts."""

from __future__ import annotations

from tests.cluster.dr_pair import MIRROR_KEY_FILE
from tests.cluster.host_state import host_state
from tests.cluster.site_driver import SITE, Site, all_users, api

ROW_WAIT = 10


def sql(site: Site, query: str) -> str:
    return site.master.docker("exec", f"{site.name}-postgres", "psql", "-X", "-At", "-U", "codenvy", "-d", "codenvy",
                              "-c", query).stdout.strip()  # fmt: skip


def users(site: Site) -> set[str]:
    return {user["email"] for user in all_users(site)}


def tool(site: Site, name: str, *args: str, check: bool = True):
    return site.master.ssh(" ".join([f"{SITE.backup.tools_directory}/codenvy-{name}-{site.name}", *args]), check=check)


def project_file(site: Site, workspace: str, path: str) -> int:
    return api(site, "GET", f"/project/{workspace}/{path}")[0]


SSH = (f"ssh -i {MIRROR_KEY_FILE} -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
       "-o LogLevel=ERROR")  # fmt: skip


def with_transfer_key(site: Site, command: str):
    """`command` run on `site`'s master, where its transfer key is."""
    return site.master.ssh(command, check=False)


def database_state(site: Site) -> str:
    """What the replication scripts keep in the database: the replication role (its salted password hash is
    new with every ALTER ROLE … PASSWORD), the slots, and the stream itself (a reconnect is a new process)."""
    return "\n".join(
        sql(site, query)
        for query in (
            "SELECT rolpassword, shobj_description(oid, 'pg_authid') FROM pg_authid WHERE rolname = 'replicator'",
            "SELECT slot_name FROM pg_replication_slots ORDER BY 1",
            "SELECT pid FROM pg_stat_replication UNION ALL SELECT pid FROM pg_stat_wal_receiver",
        )
    )


def pair_state(primary: Site, standby: Site) -> dict[str, dict[str, str]]:
    state = {name: host_state(node) for name, node in primary.nodes.items()}
    for site in (primary, standby):
        state[site.master.name]["database"] = database_state(site)
    return state


def receiver_pid(site: Site) -> str:
    """The standby's stream process: a reconnect to the primary is a new one."""
    return sql(site, "SELECT pid FROM pg_stat_wal_receiver")


def scheduled_command(site: Site, tool_name: str) -> str:
    """What cron runs for the site's `tool_name` line: the command between the five time fields and the tag."""
    marker = f" # codenvy-{tool_name}-{site.name}"
    (line,) = [line for line in site.master.ssh("crontab -l").stdout.splitlines() if line.endswith(marker)]
    return line.removesuffix(marker).split(None, 5)[5]
