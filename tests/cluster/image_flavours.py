"""What each stand-in image is made of: the Debian packages of the shared root filesystem, the files written into
it, and each flavour's Dockerfile instructions and build files (tests/cluster/images.py builds them).

Each flavour mirrors the public image's own Dockerfile (cited beside it): its user, entrypoint, command, exposed
ports and stop signal, with Debian's build of the same software inside.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

from components.master_layout import SERVER_PORT

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PG_BIN = "/usr/lib/postgresql/15/bin"
APPSERVER_DIR = Path(__file__).parent / "appserver"
# The placement manager's stand-in (another engineer's): a standard-library package, run as /swarm.
SWARM_PACKAGE = Path(__file__).parent / "placement" / "swarm"
# What /swarm runs first: the package's __main__, with the command line left as given (argv[0] stays /swarm, as
# swarm names itself after its binary).
SWARM_ENTRY = 'import runpy\n\nrunpy.run_module("swarm", run_name="__main__")\n'
VERSION_LABEL = "codenvy-sim.version"

FLAVOURS = {
    "postgres": "the official postgres:15 image: root entrypoint owns PGDATA and re-execs as postgres (uid/gid 999) "
    "via gosu; an empty /var/lib/postgresql/data is initialised from POSTGRES_USER/PASSWORD/DB (local trust, "
    "host scram-sha-256, listen on all addresses) by a temporary server given the container's own arguments; "
    "one that has PG_VERSION (seeded by pg_basebackup) is started as it is; a fresh volume there is "
    "postgres-owned 1777; postgres runs as PID 1, STOPSIGNAL SIGINT, exit 0 on SIGINT/SIGTERM; psql, pg_dump, "
    "pg_restore, pg_isready, pg_basebackup, pg_controldata on PATH",
    "haproxy": "the official haproxy:2.8 image with Debian's haproxy 2.6: USER haproxy (uid/gid 99), WORKDIR "
    "/var/lib/haproxy, CMD haproxy -f /usr/local/etc/haproxy/haproxy.cfg run as `haproxy -W -db`, STOPSIGNAL SIGUSR1",
    "registry": "the official registry:2 image with Debian's docker-registry 2.8: /bin/registry, "
    "/etc/docker/registry/config.yml (no auth, storage in /var/lib/registry), /entrypoint.sh, runs as root; wget",
    "server": "codenvy/codenvy (dockerfiles/codenvy): /sbin/tini -- /entrypoint.sh (PGUSER/PGPASSWORD or exit, wait "
    "for `psql -h postgres`, then /opt/codenvy-tomcat/bin/catalina.sh run), which starts the stand-in server "
    f"(tests/cluster/appserver) on server.xml's connector (:{SERVER_PORT}); psql, rsync, curl; the version in "
    "/opt/codenvy-tomcat/webapps/api/META-INF/MANIFEST.MF, one per tag",
    "swarm": "codenvy/swarm (dockerfiles/swarm): ENTRYPOINT /swarm, the placement manager's stand-in "
    "(tests/cluster/placement/swarm/, a zip application) with python3 and GNU wget",
    "socat": "codenvy/socat (dockerfiles/socat): ENTRYPOINT socat, Debian's socat 1.7.4",
    "agents": "codenvy/agents (dockerfiles/agents): lighttpd on :9000 serving /data as /agent-binaries: "
    "ws-agent.tar.gz (bin/catalina.sh runs busybox httpd on :4401 answering /api/) and the exec and terminal "
    "agents' archives",
    "busybox": "a few-MB static busybox with every applet in /bin (sh, ping, wget, nc, sleep...); CMD sh",
    "workspace": "a workspace machine image as stack images are: busybox's sh, wget, tar and httpd; CMD tail -f "
    "/dev/null keeps it running",
}
# Flavours built on the busybox root filesystem rather than the Debian one.
BUSYBOX_BASED = ("busybox", "workspace")

PACKAGES = (
    "postgresql-15", "gosu", "haproxy", "docker-registry", "python3", "python3-psycopg2", "python3-yaml", "curl",
    "wget", "busybox-static", "rsync", "socat", "tini", "lighttpd",
)  # fmt: skip

POSTGRES_ENTRYPOINT = r"""#!/usr/bin/env bash
# The official postgres image's docker-entrypoint.sh, reduced to what the site uses.
set -Eeo pipefail
if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" = postgres ]; then
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA" || :
fi
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p /var/run/postgresql
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  exec gosu postgres "$BASH_SOURCE" "$@"
fi
if [ "$1" = postgres ] && [ -s "$PGDATA/PG_VERSION" ]; then
  printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
elif [ "$1" = postgres ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    echo 'Error: Database is uninitialized and superuser password is not specified (POSTGRES_PASSWORD).' >&2
    exit 1
  fi
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  # The container's own server arguments (-c ssl=on, -c hba_file=...) apply from the first boot on.
  server_args=("${@:2}")
  initdb --username="$user" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") $POSTGRES_INITDB_ARGS
  auth=${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption "${server_args[@]}")}
  printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"
  temporary=("${server_args[@]}" -c listen_addresses='' -p "${PGPORT:-5432}")
  PGUSER="${PGUSER:-$user}" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "${temporary[@]}")" -w start
  if [ "$db" != postgres ]; then
    PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$user" --no-password --no-psqlrc --dbname postgres \
      --set db="$db" <<< 'CREATE DATABASE :"db";'
  fi
  for file in /docker-entrypoint-initdb.d/*; do
    case "$file" in
      *.sh) . "$file" ;;
      *.sql) PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$user" --no-password --no-psqlrc \
        --dbname "$db" -f "$file" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  printf '\nPostgreSQL init process complete; ready for start up.\n\n'
fi
exec "$@"
"""
HAPROXY_ENTRYPOINT = """#!/bin/sh
# The official haproxy image's docker-entrypoint.sh: master-worker mode in the foreground.
set -e
if [ "${1#-}" != "$1" ]; then
  set -- haproxy "$@"
fi
if [ "$1" = haproxy ]; then
  shift
  set -- haproxy -W -db "$@"
fi
exec "$@"
"""
REGISTRY_ENTRYPOINT = """#!/bin/sh
# The official registry image's entrypoint.sh.
set -e
case "$1" in
  *.yaml | *.yml) set -- registry serve "$@" ;;
  serve | garbage-collect | help | -*) set -- registry "$@" ;;
esac
exec "$@"
"""
# The official registry image's config.yml; Debian's own turns htpasswd auth on, which the site sets itself.
REGISTRY_CONFIG = """version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
"""
# codenvy/codenvy dockerfiles/init/modules/lighttpd/templates/lighttpd.conf.erb as the init step renders it
# (docroot /var/www/localhost/htdocs, port 9000); upstream mounts it over the image's, the stand-in bakes it in.
LIGHTTPD_CONF = """var.basedir  = "/var/www/localhost"
var.logdir   = "/var/log/lighttpd"
var.statedir = "/var/lib/lighttpd"
server.modules = (
    "mod_access",
    "mod_accesslog"
)
include "mime-types.conf"
server.username      = "lighttpd"
server.groupname     = "lighttpd"
server.document-root = var.basedir + "/htdocs"
server.pid-file      = "/run/lighttpd.pid"
server.errorlog      = var.logdir  + "/error.log"
server.indexfiles    = ("index.php", "index.html", "index.htm", "default.htm")
server.follow-symlink = "enable"
server.port          = 9000
static-file.exclude-extensions = (".php", ".pl", ".cgi", ".fcgi")
accesslog.filename   = var.logdir + "/access.log"
url.access-deny = ("~", ".inc")
"""
LIGHTTPD_MIME_TYPES = """mimetype.assign = (
    ".gz"   => "application/x-gzip",
    ".tgz"  => "application/x-tgz",
    ".tar"  => "application/x-tar",
    ".html" => "text/html",
    ".txt"  => "text/plain",
    ""      => "application/octet-stream"
)
"""
# Written before the packages are installed: no service starts in the chroot, no cluster is made.
BEFORE_INSTALL = {
    "usr/sbin/policy-rc.d": ("#!/bin/sh\nexit 101\n", 0o755),
    "etc/postgresql-common/createcluster.conf": ("create_main_cluster = false\n", 0o644),
}
AFTER_INSTALL = {
    "usr/local/bin/docker-entrypoint.sh": (POSTGRES_ENTRYPOINT, 0o755),
    "usr/local/bin/haproxy-entrypoint.sh": (HAPROXY_ENTRYPOINT, 0o755),
    "entrypoint.sh": (REGISTRY_ENTRYPOINT, 0o755),
    "etc/docker/registry/config.yml": (REGISTRY_CONFIG, 0o644),
    "etc/lighttpd/lighttpd.conf": (LIGHTTPD_CONF, 0o644),
    "etc/lighttpd/mime-types.conf": (LIGHTTPD_MIME_TYPES, 0o644),
}
# Run in the chroot around `apt-get install`. The official images' fixed ids: postgres 999 (created before
# the package, as the official Dockerfile does), haproxy 99 (below Debian's system range, so renumbered after),
# lighttpd as Alpine's package makes it.
CREATE_USERS = """set -eu
groupadd -r -g 999 postgres
useradd -r -u 999 -g 999 -d /var/lib/postgresql -M -s /bin/bash postgres
groupadd -r lighttpd
useradd -r -g lighttpd -d /var/www/localhost/htdocs -M -s /sbin/nologin lighttpd
"""
CUSTOMISE = """set -eu
old_uid=$(id -u haproxy) old_gid=$(id -g haproxy)
groupmod -g 99 haproxy
usermod -u 99 -g 99 haproxy
find / -xdev -uid "$old_uid" -exec chown -h 99 '{}' +
find / -xdev -gid "$old_gid" -exec chgrp -h 99 '{}' +
mkdir -p /var/lib/haproxy /usr/local/etc/haproxy /var/run/postgresql /var/lib/postgresql
cp -R /etc/haproxy/errors /usr/local/etc/haproxy/errors
chown haproxy:haproxy /var/lib/haproxy
chown postgres:postgres /var/run/postgresql /var/lib/postgresql
chmod 3777 /var/run/postgresql
# As the official image: a fresh volume at PGDATA starts as this directory, so uid 999 can seed it
# (pg_basebackup in a throw-away container) before the entrypoint ever ran.
install -d -o postgres -g postgres -m 1777 /var/lib/postgresql/data
ln -sf docker-registry /usr/bin/registry
# As the official image: listen on every address by default.
sed -ri "s!^#?(listen_addresses)\\s*=\\s*\\S+.*!\\1 = '*'!" /usr/share/postgresql/15/postgresql.conf.sample
# codenvy/codenvy dockerfiles/codenvy/Dockerfile:22-25,35: tini where Alpine has it, and the server's folders.
ln -sf /usr/bin/tini /usr/sbin/tini
mkdir -p /opt/codenvy-data/logs /opt/codenvy-data/fs /opt/codenvy-data/che-machines \\
  /opt/codenvy-data/che-machines-logs /opt/codenvy-data/conf/logback /opt/codenvy-tomcat/conf
# dockerfiles/agents/Dockerfile:17: the agents are served from /data.
mkdir -p /var/www/localhost/htdocs /var/log/lighttpd /var/lib/lighttpd
ln -sfn /data /var/www/localhost/htdocs/agent-binaries
chown lighttpd:lighttpd /var/log/lighttpd /var/lib/lighttpd
# Leave out the JIT's LLVM (~130 MB); PostgreSQL then runs as with jit = off.
rm -rf /usr/lib/postgresql/15/lib/llvmjit*.so /usr/lib/postgresql/15/lib/bitcode
dpkg --purge --force-depends libllvm14 libz3-4 > /dev/null 2>&1
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/man/* /usr/share/locale/* /usr/share/info/* /var/log/apt /var/log/*.log
find /usr/share/doc -type f ! -name copyright -delete
rm -f /usr/sbin/policy-rc.d
: > /etc/resolv.conf  # the engine mounts its own over these
: > /etc/hostname
"""

# The official images' configuration, as Dockerfile instructions on top of the imported rootfs. A flavour with
# build files (context_files) COPYs them from its build context.
CHANGES = {
    "postgres": [
        f"ENV PATH={PATH}:{PG_BIN}",
        "ENV PG_MAJOR=15",
        "ENV PGDATA=/var/lib/postgresql/data",
        "ENV LANG=C.UTF-8",
        "VOLUME /var/lib/postgresql/data",
        "EXPOSE 5432",
        "STOPSIGNAL SIGINT",
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        'CMD ["postgres"]',
    ],
    "haproxy": [
        f"ENV PATH={PATH}",
        "USER haproxy",
        "WORKDIR /var/lib/haproxy",
        "STOPSIGNAL SIGUSR1",
        'ENTRYPOINT ["haproxy-entrypoint.sh"]',
        'CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]',
    ],
    "registry": [
        f"ENV PATH={PATH}",
        "VOLUME /var/lib/registry",
        "EXPOSE 5000",
        'ENTRYPOINT ["/entrypoint.sh"]',
        'CMD ["/etc/docker/registry/config.yml"]',
    ],
    # codenvy/codenvy 5.22.0 dockerfiles/codenvy/Dockerfile:17-18,29-36 (no EXPOSE, no USER: root).
    "server": [
        f"ENV PATH={PATH}",
        "ENV LANG=C.UTF-8 TERM=xterm",
        "COPY tomcat /opt/codenvy-tomcat",
        "COPY entrypoint.sh /entrypoint.sh",
        'CMD ["postfix", "-c", "/etc/postfix", "start"]',
        'ENTRYPOINT ["/sbin/tini", "--", "/entrypoint.sh"]',
    ],
    # dockerfiles/swarm/Dockerfile:20-23.
    "swarm": [f"ENV PATH={PATH}", "COPY swarm /swarm", "ENV SWARM_HOST=:2375", "EXPOSE 2375", 'ENTRYPOINT ["/swarm"]'],
    # dockerfiles/socat/Dockerfile:15.
    "socat": [f"ENV PATH={PATH}", 'ENTRYPOINT ["socat"]'],
    # dockerfiles/agents/Dockerfile:20-24.
    "agents": [
        f"ENV PATH={PATH}",
        "COPY agents /data",
        "EXPOSE 9000",
        'CMD ["lighttpd", "-f", "/etc/lighttpd/lighttpd.conf", "-D"]',
    ],
    "busybox": ["ENV PATH=/bin", 'CMD ["sh"]'],
    "workspace": ["ENV PATH=/bin", "ENV HOME=/root", 'CMD ["tail", "-f", "/dev/null"]'],
}

# The ws-agent's stand-in: `~/che/ws-agent/bin/catalina.sh run` (machine.ws_agent.run_command) serves the agent's
# API root, /api/, which the server pings (WsAgentPingRequestFactory), on the agent's port 4401, in the foreground.
WS_AGENT_START = """#!/bin/sh
# The workspace agent's stand-in: busybox httpd answers the agent's API root on its port.
cd "$(dirname "$0")/.." || exit 1
exec httpd -f -p 4401 -h "$(pwd)/webapps"
"""
STUB_AGENT = """#!/bin/sh
# A stand-in for an agent the lane does not run: it says so.
echo "$(basename "$0"): not part of the lane's workspaces"
"""


def _targz(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A reproducible .tar.gz: fixed times and owners, so the same files give the same bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, (content, mode) in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(content), mode, 0
            archive.addfile(info, io.BytesIO(content))
    return gzip.compress(buffer.getvalue(), mtime=0)


def agent_archives() -> dict[str, tuple[bytes, int]]:
    """/data of the agents image (dockerfiles/agents/src/assembly/assembly.xml:20-47)."""
    ws_agent = _targz({"bin/catalina.sh": (WS_AGENT_START.encode(), 0o755), "webapps/api/index.html": (b"{}\n", 0o644)})
    exec_agent = _targz({"che-exec-agent": (STUB_AGENT.encode(), 0o755)})
    terminal = _targz({"terminal/che-websocket-terminal": (STUB_AGENT.encode(), 0o755)})
    return {
        "agents/ws-agent.tar.gz": (ws_agent, 0o644),
        "agents/linux_amd64/exec/exec-agent-linux_amd64.tar.gz": (exec_agent, 0o644),
        "agents/linux_amd64/terminal/websocket-terminal-linux_amd64.tar.gz": (terminal, 0o644),
    }


def swarm_binary() -> bytes:
    """/swarm: the stand-in package as one executable file, as swarm's own image holds one binary: a zip application
    (PEP 441: a python3 line, then a zip whose __main__.py starts the package), with sorted names and fixed times so
    the same sources give the same bytes."""
    members = {"__main__.py": SWARM_ENTRY.encode()}
    for module in sorted(SWARM_PACKAGE.rglob("*.py")):
        members[f"swarm/{module.relative_to(SWARM_PACKAGE).as_posix()}"] = module.read_bytes()
    buffer = io.BytesIO()
    buffer.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr, info.compress_type = 0o644 << 16, zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def server_files(version: str) -> dict[str, tuple[bytes, int]]:
    """The server image's build files: the upstream-shaped entrypoint, the stand-in as Tomcat's api webapp, and
    that webapp's manifest naming the image's version (what ApiInfoService reports)."""
    files = {
        "entrypoint.sh": ((APPSERVER_DIR / "entrypoint.sh").read_bytes(), 0o755),
        "tomcat/bin/catalina.sh": ((APPSERVER_DIR / "catalina.sh").read_bytes(), 0o755),
        "tomcat/webapps/api/META-INF/MANIFEST.MF": (
            f"Manifest-Version: 1.0\nImplementation-Version: {version}\n".encode(),
            0o644,
        ),
    }
    for module in sorted(APPSERVER_DIR.glob("*.py")):
        files[f"tomcat/webapps/api/{module.name}"] = (module.read_bytes(), 0o644)
    return files


def context_files(flavour: str, name: str) -> dict[str, tuple[bytes, int]] | None:
    """The build files of a flavour for the image `name`, or None when its source is missing (the swarm stand-in
    before tests/cluster/placement/swarm/ exists)."""
    if flavour == "server":
        return server_files(name.rsplit(":", 1)[-1] if ":" in name.rsplit("/", 1)[-1] else "latest")
    if flavour == "swarm":
        return {"swarm": (swarm_binary(), 0o755)} if (SWARM_PACKAGE / "__main__.py").is_file() else None
    if flavour == "agents":
        return agent_archives()
    return {}
