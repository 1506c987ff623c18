"""Where on a host the site may write: directories of its own, never a system or cron directory, and as the
firewall's boot file only an nftables ruleset."""

from __future__ import annotations

import posixpath
from typing import Annotated

from pydantic import AfterValidator

from components.config.fields import safe_path

# Directories the system owns. The site may keep a directory of its own below several of them
# (/var/backups/codenvy, /usr/local/lib/codenvy) but never use one itself: the backup script makes its
# directory private (chmod go-rwx) and prunes it, the tools directory holds executables. (S108:
# these are names to refuse; nothing here writes to /tmp.)
SYSTEM_DIRECTORIES = frozenset(
    {
        "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt",
        "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/backups",  # noqa: S108
        "/var/cache", "/var/lib", "/var/local", "/var/log", "/var/mail", "/var/opt", "/var/tmp", "/usr/local",  # noqa: S108
        "/usr/local/bin", "/usr/local/etc", "/usr/local/include", "/usr/local/lib", "/usr/local/libexec",
        "/usr/local/sbin", "/usr/local/share", "/usr/local/src",
    }
)  # fmt: skip
# Trees in which no directory is the site's: the kernel's and init's, programs and configuration (a file in
# /etc/cron.hourly runs every hour, one in /etc/profile.d at every login), the crontabs and Docker's own
# data. /usr/local is the administrator's, so /usr is a system tree except below it. A directory below /tmp
# stays allowed (tests and dev sites use one); /tmp itself is a system directory.
SYSTEM_TREES = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin", "/sys",
    "/usr", "/var/lib/docker", "/var/lock", "/var/run", "/var/spool",
)  # fmt: skip
ADMINISTRATORS_TREE = "/usr/local"
# The nftables services read their boot ruleset from /etc: /etc/nftables.conf (Debian, Arch),
# /etc/sysconfig/nftables.conf (RHEL), *.nft files (/etc/nftables/, Alpine's /etc/nftables.d/).
RULESET_TREE = "/etc"
RULESET_DIRECTORY = "nftables.d"


def _inside(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree.rstrip("/") + "/")


def system_place(path: str) -> str | None:
    """Why an absolute `path` is the system's rather than a site's to write, or None."""
    if path in SYSTEM_DIRECTORIES:
        return f"{path} is a system directory"
    parts = path.split("/")
    if len(parts) == 3 and parts[1] == "home":
        return f"{path} is a user's home directory"
    for tree in SYSTEM_TREES:
        if _inside(path, tree) and not _inside(path, ADMINISTRATORS_TREE):
            return f"{path} lies in the system tree {tree}"
    return None


def site_directory(value: str) -> str:
    """A directory the site owns on its master: a safe path, neither a system directory nor inside a system
    or cron tree. Relative paths (allowed in dev only) are taken from the working directory, but not as
    the working directory itself."""
    path = posixpath.normpath(safe_path(value))
    reason = "it is the working directory" if path == "." else system_place(path) if path.startswith("/") else None
    if reason is not None:
        raise ValueError(
            f"{reason}; give the site a directory of its own, such as /var/backups/codenvy or "
            f"/usr/local/lib/codenvy (not /, /etc, /usr, /tmp, /var/spool/cron or any other system or cron "
            f"directory)"
        )
    return path


def nftables_ruleset(value: str) -> str:
    """A ruleset file the host's nftables service loads at boot: named nftables.conf or *.nft, under /etc,
    outside cron's directories and other programs' `.d` directories (which read every file in them)."""
    path = posixpath.normpath(safe_path(value))
    directories, name = path.split("/")[1:-1], posixpath.basename(path)
    foreign = [
        part
        for part in directories
        if part.startswith(("cron", "anacron")) or (part.endswith(".d") and part != RULESET_DIRECTORY)
    ]
    if not _inside(path, RULESET_TREE) or not (name == "nftables.conf" or (name.endswith(".nft") and name != ".nft")):
        raise ValueError(
            f"{path} is not an nftables ruleset: name the file the host's nftables service loads at boot, under "
            "/etc and called nftables.conf or *.nft (e.g. /etc/nftables.conf, /etc/sysconfig/nftables.conf)"
        )
    if foreign:
        raise ValueError(
            f"{path} lies in {'/'.join(foreign)}, a directory whose every file cron or another program reads; "
            "name the nftables service's own ruleset, e.g. /etc/nftables.conf"
        )
    return path


SiteDirectory = Annotated[str, AfterValidator(site_directory)]
NftablesRuleset = Annotated[str, AfterValidator(nftables_ruleset)]
