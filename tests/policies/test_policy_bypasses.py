"""Ways round the pack's rules: each trips its policy; the safe setting passes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.pack import bash, of, resource_args, service, tripped, violations

PLUGIN = "docker:index/plugin:Plugin"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what the policy must catch
# What daemon-config-secure says of an insecure registry and of a mirror over http.
INSECURE = "insecure registry"
MIRROR = "registry mirror"


# --- capabilities ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("adds", [["ALL"], ["SYS_ADMIN"], ["cap_sys_admin"], ["SYS_PTRACE"], ["NET_ADMIN"], ["BPF"]])
def test_added_capability_is_caught(postgres, adds):
    (message,) = tripped(of(postgres, capabilities={"adds": adds}), "container-no-added-capabilities")
    assert "drop them from capabilities.adds" in message


def test_default_capability_re_added_after_drop_all_passes(postgres):
    capabilities = {"adds": ["NET_BIND_SERVICE", "CHOWN"], "drops": ["ALL"]}
    assert violations(of(postgres, capabilities=capabilities)) == {}


# --- host namespaces ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"networkMode": "host"},
        {"pidMode": "host"},
        {"ipcMode": "host"},
        {"usernsMode": "host"},
        {"cgroupnsMode": "host"},
        {"networkMode": " HOST "},
        {"networksAdvanced": [{"name": "host"}]},
    ],
)
def test_host_namespace_is_caught(postgres, changes):
    (message,) = tripped(of(postgres, **changes), "container-no-host-namespaces")
    assert f"{next(iter(changes))}: host" in message or "networksAdvanced" in message


def test_private_namespaces_pass(postgres):
    changes = {"networkMode": "bridge", "ipcMode": "private", "networksAdvanced": [{"name": "codenvy-net"}]}
    assert violations(of(postgres, **changes)) == {}


# --- confinement ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [
        "seccomp=unconfined",
        "seccomp:unconfined",
        "Seccomp = Unconfined",
        "apparmor=unconfined",
        "apparmor:unconfined",
        "label=disable",
        "label:type:spc_t",
        "systempaths=unconfined",
    ],
)
def test_unconfined_security_opt_is_caught(postgres, option):
    (message,) = tripped(of(postgres, securityOpts=["no-new-privileges:true", option]), "container-confined")
    assert option in message and "drop these securityOpts" in message


def test_confining_security_opts_pass(postgres):
    options = ["no-new-privileges:true", "apparmor=docker-default", "seccomp=/etc/docker/seccomp.json"]
    assert violations(of(postgres, securityOpts=options)) == {}


# --- devices --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"devices": [{"hostPath": "/dev/sda", "containerPath": "/dev/sda", "permissions": "rwm"}]},
        {"deviceCgroupRules": ["a *:* rwm"]},
    ],
)
def test_host_device_is_caught(postgres, changes):
    (message,) = tripped(of(postgres, **changes), "container-no-host-devices")
    assert "drop devices" in message


def test_no_devices_passes(postgres):
    assert violations(of(postgres, devices=[], deviceCgroupRules=[])) == {}


# --- bind mounts ----------------------------------------------------------------------------------------


def bind(source: str, via: str) -> dict[str, Any]:
    """`source` bound into the container through a volume's hostPath, a path-like volumeName, or a mount."""
    if via == "mount":
        return {"mounts": [{"source": source, "target": "/host", "type": "bind"}]}
    return {"volumes": [{via: source, "containerPath": "/host"}]}


@pytest.mark.parametrize("via", ["hostPath", "volumeName", "mount"])
@pytest.mark.parametrize(
    "source",
    [
        "//var/run/docker.sock",
        "/var/run/../run/docker.sock",
        "/run/docker.sock",
        "/var/run/docker.sock/",
        "/var/run",
        "/run/containerd/containerd.sock",
        "/var/run/containerd",
        "/",
    ],
)
def test_runtime_socket_in_any_spelling_is_caught(postgres, source, via):
    (message,) = tripped(of(postgres, **bind(source, via)), "no-docker-socket-mount")
    assert "runtime socket" in message


@pytest.mark.parametrize("via", ["hostPath", "volumeName", "mount"])
@pytest.mark.parametrize("source", ["/", "/etc", "//etc/", "/srv/../etc", "/etc/shadow", "/var", "/proc", "/var/run"])
def test_host_system_path_is_caught(postgres, source, via):
    (message,) = tripped(of(postgres, **bind(source, via)), "no-host-system-mount")
    assert "use a named volume" in message


@pytest.mark.parametrize(
    "changes",
    [
        {"volumes": [{"volumeName": "codenvy-pgdata", "containerPath": "/var/lib/postgresql/data"}]},
        {"volumes": [{"hostPath": "/srv/codenvy/pgdata", "containerPath": "/var/lib/postgresql/data"}]},
        {"volumes": [{"hostPath": "/etcetera", "containerPath": "/data"}]},
        {"mounts": [{"source": "codenvy-pgdata", "target": "/var/lib/postgresql/data", "type": "volume"}]},
        {"mounts": [{"target": "/scratch", "type": "tmpfs"}]},
    ],
)
def test_named_volume_or_data_directory_passes(postgres, changes):
    assert violations(of(postgres, **changes)) == {}


# --- internal ports -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ports",
    [
        [{"internal": 5432, "external": 15432}],
        [{"internal": 5432}],
        [{"internal": 2375, "external": 2375, "ip": "0:0:0:0:0:0:0:0"}],
        [{"internal": 2375, "external": 2375, "ip": "::"}],
        [{"internal": 2375, "external": 2375, "ip": "[::]"}],
        [{"internal": 2375, "external": 2375, "ip": "::ffff:0.0.0.0"}],
        [{"internal": 5432, "external": 15432, "ip": ALL_INTERFACES}],
    ],
)
def test_internal_port_published_on_all_interfaces_is_caught(postgres, ports):
    (message,) = tripped(of(postgres, ports=ports), "no-internal-port-published")
    assert "on all interfaces" in message


def test_publish_all_ports_is_caught(postgres):
    (message,) = tripped(of(postgres, publishAllPorts=True), "no-internal-port-published")
    assert "drop it and list the ports" in message


@pytest.mark.parametrize(
    "ports",
    [
        [{"internal": 5432, "external": 15432, "ip": "10.0.0.5"}],
        [{"internal": 5432, "ip": "fd00::5"}],
        [{"internal": 80, "external": 8080, "ip": "::"}],
    ],
)
def test_internal_port_on_a_private_address_passes(postgres, ports):
    assert violations(of(postgres, ports=ports)) == {}


# --- the registry ---------------------------------------------------------------------------------------


def test_registry_is_known_by_its_label_without_registry_variables(registry):
    plain = [env for env in registry.inputs["envs"] if not env.startswith("REGISTRY_")]
    (message,) = tripped(of(registry, envs=plain), "registry-serves-tls")
    assert "set REGISTRY_HTTP_TLS_CERTIFICATE" in message


def test_registry_with_tls_variables_passes(registry):
    assert violations(of(registry)) == {}


def test_registry_variables_without_the_label_are_not_held_to_registry_tls(postgres):
    """A client configured with REGISTRY_* variables is not a registry; only the program's label makes one."""
    envs = [*(postgres.inputs.get("envs") or []), "REGISTRY_STORAGE_DELETE_ENABLED=true"]
    assert tripped(of(postgres, envs=envs), "registry-serves-tls") == []


# --- Swarm services -------------------------------------------------------------------------------------


def test_hardened_service_trips_nothing():
    assert violations(service()) == {}


@pytest.mark.parametrize(
    ("policy", "changes"),
    [
        ("container-image-pinned", {"spec": {"image": "postgres:latest"}}),
        ("container-memory-limit", {"task": {"resources": {}}}),
        ("container-restart-bounded", {"task": {"restartPolicy": {"condition": "none"}}}),
        ("container-no-added-capabilities", {"spec": {"capAdds": ["SYS_ADMIN"]}}),
        ("container-no-host-namespaces", {"task": {"networksAdvanceds": [{"name": "host"}]}}),
        ("container-confined", {"spec": {"privileges": {"seLinuxContext": {"disable": True}}}}),
        ("no-docker-socket-mount", {"spec": {"mounts": [{"source": "//var/run/docker.sock", "type": "bind"}]}}),
        ("no-host-system-mount", {"spec": {"mounts": [{"source": "/etc", "target": "/e", "type": "bind"}]}}),
        ("no-internal-port-published", {"endpointSpec": {"ports": [{"targetPort": 5432, "publishedPort": 15432}]}}),
        ("no-internal-port-published", {"endpointSpec": {"ports": [{"targetPort": 2375}]}}),
        ("registry-serves-tls", {"labels": [{"label": "codenvy.service", "value": "registry"}]}),
        ("registry-serves-tls", {"spec": {"labels": [{"label": "codenvy.service", "value": "registry"}]}}),
    ],
)
def test_service_task_spec_is_held_to_the_container_rules(policy, changes):
    (message,) = tripped(service(**changes), policy)
    assert message.startswith("codenvy-postgres: ")


# --- plugins --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "props",
    [
        {"name": "vieux/sshfs:latest", "grantAllPermissions": True},
        {"name": "rexray/ebs:0.11.4", "enabled": False, "grantPermissions": []},
    ],
)
def test_docker_plugin_is_refused(props):
    (message,) = tripped(resource_args(PLUGIN, props), "no-docker-plugin")
    assert props["name"] in message and "drop it" in message


def test_no_plugin_policy_leaves_other_resources_alone(postgres):
    assert tripped(of(postgres), "no-docker-plugin") == []


# --- daemon commands ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "dockerd -H=tcp://0.0.0.0:2375",
        "dockerd --host tcp://10.0.0.1:2375",
        "dockerd --host=TCP://10.0.0.1:02375",
        "dockerd -H tcp://0.0.0.0",
        "dockerd -H tcp://0.0.0.0:$PORT",
        "dockerd -H :2375",
        "dockerd -H 0.0.0.0:2375",
        """echo '{"hosts" : [ "tcp://[::]:2375" ]}' > /etc/docker/daemon.json""",
        """echo '{"hosts": ["tcp:\\/\\/0.0.0.0:2375"]}' > /etc/docker/daemon.json""",
        # On any port, a TCP listener without --tlsverify: --tls alone lets anyone in.
        "dockerd -H tcp://0.0.0.0:2376",
        "dockerd -H tcp://0.0.0.0:443 --tls",
        "dockerd -H tcp://0.0.0.0:2376 --tlsverify=false",
        "dockerd -H 0.0.0.0:2376",
        "dockerd --host=10.0.0.5:8080",
        """echo '{"hosts": ["tcp://0.0.0.0:2376"]}' > /etc/docker/daemon.json""",
        """echo '{"hosts": ["0.0.0.0:2376"], "tlsverify": false}' > /etc/docker/daemon.json""",
    ],
)
def test_plaintext_docker_api_in_any_spelling_is_caught(daemon, script):
    (message,) = tripped(of(daemon, create=bash(script)), "daemon-config-secure")
    assert "plaintext Docker API" in message


@pytest.mark.parametrize(
    ("script", "hint"),
    [
        ("""echo '{ "insecure-registries" :["10.77.0.11:5000"] }' > /etc/docker/daemon.json""", INSECURE),
        ("""echo '{"insecure\\u002dregistries": ["10.77.0.11:5000"]}' > /etc/docker/daemon.json""", INSECURE),
        ("""echo '{"Insecure-Registries": ["10.77.0.11:5000"]}' > /etc/docker/daemon.json""", INSECURE),
        ("""echo '{"insecure-"registries": ["10.77.0.11:5000"]}' > /etc/docker/daemon.json""", INSECURE),
        ("dockerd --insecure-registry=10.77.0.11:5000", INSECURE),
        ("dockerd --insecure-registry 10.77.0.11:5000", INSECURE),
        # A mirror over http:// pulls every image in the clear.
        ("""echo '{"registry-mirrors": ["http://10.77.0.11:5000"]}' > /etc/docker/daemon.json""", MIRROR),
        ("""echo '{"registry-mirrors": ["https://mirror.example", "HTTP://10.77.0.11:5000"]}' > d.json""", MIRROR),
        ("""echo '{"registry\\u002dmirrors": ["http:\\/\\/10.77.0.11:5000"]}' > /etc/docker/daemon.json""", MIRROR),
        ("dockerd --registry-mirror=http://10.77.0.11:5000", MIRROR),
        ("dockerd --registry-mirror http://10.77.0.11:5000", MIRROR),
    ],
)
def test_registry_without_tls_in_any_spelling_is_caught(daemon, script, hint):
    (message,) = tripped(of(daemon, create=bash(script)), "daemon-config-secure")
    assert hint in message


def test_registry_mirror_over_https_passes(daemon):
    script = """echo '{"registry-mirrors": ["https://mirror.example"], "proxy": "http://proxy:3128"}' > d.json"""
    assert violations(of(daemon, create=bash(script))) == {}


@pytest.mark.parametrize("key", ["delete", "update", "stdin"])
def test_insecure_daemon_setting_in_another_script_is_caught(daemon, key):
    insecure = bash("""echo '{"insecure-registries": ["10.77.0.11:5000"]}' > /etc/docker/daemon.json""")
    assert tripped(of(daemon, **{key: insecure}), "daemon-config-secure")


def test_plaintext_docker_api_in_the_environment_is_caught(daemon):
    assert tripped(of(daemon, environment={"DOCKER_OPTS": "-H tcp://0.0.0.0:2375"}), "daemon-config-secure")


@pytest.mark.parametrize(
    "script",
    [
        "DOCKER_HOST=tcp://10.77.0.12:2376 docker --tlsverify info",
        "dockerd -H unix:///var/run/docker.sock -H tcp://0.0.0.0:2376 --tlsverify",
        "rm -f /etc/docker/daemon.json && systemctl restart docker",
        """echo '{"hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"], "tlsverify": true}' > d.json""",
        "df -h / && ssh -p 22 host true",
    ],
)
def test_tls_api_and_plain_cleanup_pass(daemon, script):
    assert violations(of(daemon, create=bash(script), delete=bash(script))) == {}
