"""Host paths reached through structured properties: bind volumes, volumesFrom, '..' and data dirs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.pack import of, resource_args, service, tripped, violations

VOLUME = "docker:index/volume:Volume"
BIND_ETC = {"type": "none", "o": "bind", "device": "/etc"}


def volume(**props: Any):
    return resource_args(VOLUME, {"name": "codenvy-data", **props}, "codenvy-data")


def inline_volume(driver_options: dict[str, str], driver: str | None = None) -> dict[str, Any]:
    """A mount of an anonymous volume created with `driver_options`, as Container and Service write it."""
    options = {"driverOptions": driver_options, **({"driverName": driver} if driver else {})}
    return {"source": "", "target": "/data", "type": "volume", "volumeOptions": options}


# --- local-driver volumes with o=bind -------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        BIND_ETC,
        {"o": "ro,bind", "device": "/etc"},
        {"o": " RBind ", "device": "//etc/"},
        {"o": "bind", "device": "etc"},  # relative to dockerd's working directory, /
        {"o": "bind", "device": "/"},
    ],
)
def test_volume_binding_a_system_path_is_caught(options):
    (message,) = tripped(volume(driver="local", driverOpts=options), "no-host-system-mount")
    assert "use a named volume" in message


def test_volume_of_the_default_driver_binding_the_socket_directory_is_caught():
    options = {"type": "none", "o": "bind", "device": "/var/run"}
    assert tripped(volume(driverOpts=options), "no-docker-socket-mount")


def test_inline_container_volume_binding_a_system_path_is_caught(postgres):
    assert tripped(of(postgres, mounts=[inline_volume(BIND_ETC, "local")]), "no-host-system-mount")


def test_service_volume_driver_config_binding_a_system_path_is_caught():
    assert tripped(service(spec={"mounts": [inline_volume(BIND_ETC)]}), "no-host-system-mount")


@pytest.mark.parametrize(
    "props",
    [
        {},
        {"driver": "local", "driverOpts": {"type": "tmpfs", "device": "tmpfs", "o": "size=100m"}},
        {"driver": "local", "driverOpts": {"type": "nfs", "o": "addr=10.0.0.5,rw", "device": ":/export/etc"}},
        {"driver": "local", "driverOpts": {"type": "none", "o": "bind", "device": "/srv/codenvy/data"}},
        {"driver": "rexray", "driverOpts": {"o": "bind", "device": "/etc"}},  # not the local driver's options
    ],
)
def test_volume_that_binds_no_system_path_passes(props):
    assert violations(volume(**props)) == {}


# --- volumesFrom ----------------------------------------------------------------------------------------


def test_volumes_from_another_container_is_caught(postgres):
    volumes = [{"fromContainer": "codenvy-relay-10-77-0-12-container", "containerPath": "/v"}]
    (message,) = tripped(of(postgres, volumes=volumes), "container-no-volumes-from")
    assert "codenvy-relay-10-77-0-12-container" in message and "drop fromContainer" in message


# --- data directories and '..' --------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["hostPath", "volumeName", "mount"])
@pytest.mark.parametrize(
    "source",
    ["/var/spool/cron", "/var/spool/cron/crontabs", "/home", "/home/admin/.ssh", "/var/backups", "/var/log"],
)
def test_host_data_directory_is_caught(postgres, source, via):
    volumes = {"mounts": [{"source": source, "target": "/h", "type": "bind"}]}
    if via != "mount":
        volumes = {"volumes": [{via: source, "containerPath": "/h"}]}
    assert tripped(of(postgres, **volumes), "no-host-system-mount")


@pytest.mark.parametrize("source", ["/srv/link/../etc", "/srv/codenvy/../data", "/srv/codenvy/.."])
def test_path_through_dot_dot_is_caught(postgres, source):
    """A symlinked component makes '..' climb from its target, which only the host knows."""
    (message,) = tripped(of(postgres, volumes=[{"hostPath": source, "containerPath": "/h"}]), "no-host-system-mount")
    assert "through '..'" in message


def test_data_directory_of_the_site_passes(postgres):
    volumes = [{"hostPath": "/srv/codenvy/backups", "containerPath": "/backups"}]
    assert violations(of(postgres, volumes=volumes)) == {}
