"""How PostgreSQL streams between the two sites of a DR pair: the server's arguments and pg_hba.conf, the
standby's connection to its primary, slot names, and the bundle its configuration volume is written from."""

from __future__ import annotations

import base64
import io
import tarfile

from components.deploy_gates import PrimarySite

REPLICATION_ROLE = "replicator"
SLOT_PREFIX = "standby_"
# Where the server finds its TLS files, pg_hba.conf and the replication password file (a volume of its own).
CONF_DIR = "/etc/codenvy-postgres"
PRIMARY_CA_FILE = "primary-ca.crt"
PGPASS_FILE = "replication.pgpass"
# On the serving side: the replication role's password for each of its standbys, which the fence asks.
STANDBYS_PGPASS_FILE = "standbys.pgpass"


def primary_conninfo(primary: PrimarySite) -> str:
    """How a standby reaches its primary's PostgreSQL: TLS verified against the primary's site CA and its
    master's address (the certificate names it), the password from a file, never an argument."""
    return (
        f"host={primary.manager_address} port={primary.postgres_port} user={REPLICATION_ROLE} sslmode=verify-full "
        f"sslrootcert={CONF_DIR}/{PRIMARY_CA_FILE} passfile={CONF_DIR}/{PGPASS_FILE} connect_timeout=10"
    )


def pgpass_line(primary: PrimarySite, password: str) -> str:
    """The standby's password file entry for the replication role at its primary."""
    return pgpass_entry(primary.manager_address, primary.postgres_port, password)


def pgpass_entry(address: str, port: int | None, password: str) -> str:
    """A password file entry for the replication role at `address`. libpq reads `:` as the field separator and
    `\\` as an escape in every field (PostgreSQL docs, "The Password File"), so both are escaped; a newline
    cannot be written at all, and the gate refuses a password with one (stack_outputs.OutputSecret)."""
    fields = (address, str(port), "*", REPLICATION_ROLE, password)
    return ":".join(field.replace("\\", "\\\\").replace(":", "\\:") for field in fields) + "\n"


def slot_name(standby_master_address: str) -> str:
    """The primary's slot for a standby, named for the standby master's address (both sites know it)."""
    return SLOT_PREFIX + standby_master_address.replace(".", "_")


def postgres_command() -> list[str]:
    """The server's arguments, the same on both sites, so promotion and failback never change the container
    (what differs by site, the WAL kept for standbys, is set with ALTER SYSTEM where it applies). The official
    entrypoint hands them to its first-boot server too: the files must exist before it starts."""
    options = {
        "ssl": "on",
        "ssl_cert_file": f"{CONF_DIR}/server.crt",
        "ssl_key_file": f"{CONF_DIR}/server.key",
        "hba_file": f"{CONF_DIR}/pg_hba.conf",
        "wal_level": "replica",
        "hot_standby": "on",
    }
    return ["postgres", *(word for key, value in options.items() for word in ("-c", f"{key}={value}"))]


def render_pg_hba(peers: tuple[str, ...]) -> str:
    """Who may log in to a PostgreSQL published at the master's address. From the peer site's master: the
    replication role over TLS, to replicate, and nothing else (no entry: refused before any password). From
    the site's own container network (`samenet`: the subnets of the database container's interfaces, which is
    on the site's internal network alone): every role with a password, as the image's own rules allow from
    anywhere. In the container: the socket and 127.0.0.1, as the image trusts them. The replication role
    never reaches a database, from anywhere. PostgreSQL docs, "The pg_hba.conf File": the first line that
    matches decides, and a replication connection matches `replication` only, never `all`."""
    lines = [
        "local all all trust",
        f"host all {REPLICATION_ROLE} all reject",
        "host all all 127.0.0.1/32 trust",
        "host all all samenet scram-sha-256",
        *(f"hostssl replication {REPLICATION_ROLE} {peer}/32 scram-sha-256" for peer in peers),
    ]
    return "\n".join(lines) + "\n"


def config_bundle(files: dict[str, str]) -> str:
    """The files as a base64 tar with fixed metadata, so the same files are the same bundle on every run."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(files.items()):
            data = content.encode()
            member = tarfile.TarInfo(name)
            member.size, member.mode, member.mtime = len(data), 0o600, 0
            tar.addfile(member, io.BytesIO(data))
    return base64.b64encode(buffer.getvalue()).decode()
