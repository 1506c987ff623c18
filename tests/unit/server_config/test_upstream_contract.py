"""What the program gives the application server meets the contract of the real codenvy/codenvy 5.x image:
every name it writes is upstream's, held against tables of upstream facts (each with the file it is in),
written here, not read from the program."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from components.app_server import AppServerSettings
from components.config_loader import load_site_config
from components.server_config import (
    properties,
    properties_files,
    render_admin_properties,
    render_codenvy_env,
    render_server_xml,
    server_environment,
)
from tests.harness import STACKS, container_env, evaluate, site_config

CODENVY = "codenvy/codenvy"
# The variables a user sets in codenvy.env, each with the property the init step renders it into (None
# where it goes elsewhere: the server's env_file, JAVA_OPTS, server.xml). CODENVY = codenvy/codenvy.
USER_VARIABLES = {
    # dockerfiles/init/manifests/codenvy.env; manifests/codenvy.pp; modules/codenvy/templates/*.erb
    "CODENVY_HOST": None,
    "CODENVY_HOST_PROTOCOL": None,
    "CODENVY_ADMIN_NAME": None,
    "CODENVY_ADMIN_EMAIL": None,
    "CODENVY_PGSQL_USERNAME": None,
    "CODENVY_PGSQL_DATABASE_NAME": None,
    "CODENVY_SERVER_XMX": None,
    "CODENVY_HTTP_PROXY_FOR_CODENVY": None,
    "CODENVY_HTTPS_PROXY_FOR_CODENVY": None,
    "CODENVY_NO_PROXY_FOR_CODENVY": None,
    # general.properties.erb
    "CODENVY_LIMITS_USER_WORKSPACES_COUNT": "che.limits.user.workspaces.count",
    "CODENVY_LIMITS_USER_WORKSPACES_RUN_COUNT": "che.limits.user.workspaces.run.count",
    "CODENVY_LIMITS_USER_WORKSPACES_RAM": "che.limits.user.workspaces.ram",
    "CODENVY_MACHINE_WS_AGENT_INACTIVE_STOP_TIMEOUT_MS": "che.limits.workspace.idle.timeout",
    "CODENVY_LIMITS_WORKSPACE_ENV_RAM": "che.limits.workspace.env.ram",
    "CODENVY_WORKSPACE_AUTO_SNAPSHOT": "che.workspace.auto_snapshot",
    "CODENVY_WORKSPACE_AUTO_RESTORE": "che.workspace.auto_restore",
    "CODENVY_HTTP_PROXY_FOR_CODENVY_WORKSPACES": "che.workspace.http_proxy",
    "CODENVY_HTTPS_PROXY_FOR_CODENVY_WORKSPACES": "che.workspace.https_proxy",
    "CODENVY_NO_PROXY_FOR_CODENVY_WORKSPACES": "che.workspace.no_proxy",
    # machine.properties.erb
    "CODENVY_DOCKER_REGISTRY_FOR_WORKSPACE_SNAPSHOTS": "che.docker.registry",
    "CODENVY_MACHINE_DOCKER_NETWORK_DRIVER": "che.docker.network_driver",
    "CODENVY_MACHINE_DEFAULT_MEM_SIZE_MB": "che.workspace.default_memory_mb",
    "CODENVY_MACHINE_DOCKER_MEMORY_SWAP_MULTIPLIER": "che.docker.swap",
}
# The properties the server reads, by file: codenvy's templates, and eclipse/che's injection points for the
# two the templates do not render (che.docker.network: CheInContainerNetworkProvider.java;
# docker.client.certificates_folder: DockerConnectorConfiguration.java).
PROPERTY_FILES = {
    "general.properties": {
        "che.api",
        "che.user.workspaces.storage",
        "che.limits.user.workspaces.count",
        "che.limits.user.workspaces.run.count",
        "che.limits.user.workspaces.ram",
        "che.limits.workspace.idle.timeout",
        "che.limits.workspace.env.ram",
        "che.workspace.auto_snapshot",
        "che.workspace.auto_restore",
        "che.workspace.http_proxy",
        "che.workspace.https_proxy",
        "che.workspace.no_proxy",
        "db.jndi.datasource.name",
    },
    "machine.properties": {
        "machine.project.location",
        "che.docker.registry",
        "che.docker.registry_for_snapshots",
        "docker.client.daemon_url",
        "docker.client.certificates_folder",
        "che.docker.network_driver",
        "che.docker.network",
        "che.workspace.default_memory_mb",
        "che.docker.swap",
    },
    # admin.properties.erb
    "admin.properties": {"codenvy.admin.name", "codenvy.admin.initial_password", "codenvy.admin.email"},
}
# The server's env_file (templates/codenvy.env.erb), and the registry credentials it passes on renamed
# CODENVY_DOCKER_REGISTRY_AUTH_* -> CHE_DOCKER_REGISTRY_AUTH_* (codenvy.env.erb, "docker private registries").
SERVER_ENVIRONMENT = {
    "CODENVY_DATA_DIR": "/opt/codenvy-data",
    "CODENVY_JAVA_DUMPS_DIR": "/opt/codenvy-data/dumps",
    "CHE_LOGS_DIR": "/opt/codenvy-data/logs",
    "CHE_LOCAL_CONF_DIR": "/opt/codenvy-data/conf/",
    "CODENVY_HOST": None,
    "PGUSER": None,
    "PGPASSWORD": None,
    "CODENVY_TOMCAT_HOME": "/opt/codenvy-tomcat",
    "JAVA_OPTS": None,
}
REGISTRY_AUTH = ("CHE_DOCKER_REGISTRY_AUTH_REGISTRY1_URL", "CHE_DOCKER_REGISTRY_AUTH_REGISTRY1_USERNAME",
                 "CHE_DOCKER_REGISTRY_AUTH_REGISTRY1_PASSWORD")  # fmt: skip
# docker-compose.yml.erb: the server's data and configuration folders.
SERVER_MOUNTS = {"/opt/codenvy-data/fs", "/opt/codenvy-data/che-machines", "/opt/codenvy-data/logs"}


def server_of(stack: str):
    site = site_config(stack)
    return evaluate(stack).named(f"{site.site_name}-master-server")


def env_lines(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def inputs_of(site):
    return AppServerSettings.of(site).server


@pytest.mark.parametrize("stack", STACKS)
def test_codenvy_env_uses_only_codenvys_own_variable_names(stack):
    written = env_lines(render_codenvy_env(inputs_of(site_config(stack))))
    assert set(written) - set(USER_VARIABLES) == set()


@pytest.mark.parametrize("stack", STACKS)
def test_every_variable_renders_into_the_property_upstream_renders_it_into(stack):
    rendered = {entry.variable: entry.key for entry in properties(inputs_of(site_config(stack))) if entry.variable}
    assert rendered == {variable: key for variable, key in USER_VARIABLES.items() if key and variable in rendered}


@pytest.mark.parametrize("stack", STACKS)
def test_each_property_lives_in_the_file_upstream_renders_it_in(stack):
    for entry in properties(inputs_of(site_config(stack))):
        assert entry.key in PROPERTY_FILES[entry.file], (entry.file, entry.key)


@pytest.mark.parametrize("stack", STACKS)
def test_the_servers_environment_is_what_codenvy_env_erb_gives_it(stack):
    env = container_env(server_of(stack))
    assert set(env) - set(SERVER_ENVIRONMENT) - set(REGISTRY_AUTH) == set()
    assert {name: env[name] for name, value in SERVER_ENVIRONMENT.items() if value} == {
        name: value for name, value in SERVER_ENVIRONMENT.items() if value
    }


@pytest.mark.parametrize("stack", STACKS)
def test_the_entrypoints_database_login_is_set(stack):
    """dockerfiles/codenvy/entrypoint.sh exits unless PGUSER and PGPASSWORD are both set."""
    env = container_env(server_of(stack))
    assert env["PGUSER"] and env["PGPASSWORD"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_database_password_reaches_the_server_as_a_secret(stack):
    assert "envs" in server_of(stack).secret_inputs


@pytest.mark.parametrize("stack", STACKS)
def test_the_database_answers_as_postgres_and_codenvy_postgres(stack):
    site = site_config(stack)
    (network,) = evaluate(stack).named(f"{site.site_name}-master-postgres").inputs["networksAdvanced"]
    assert {"postgres", "codenvy-postgres"} <= set(network["aliases"])


@pytest.mark.parametrize("stack", STACKS)
def test_the_server_keeps_its_data_under_opt_codenvy_data(stack):
    mounts = {volume["containerPath"] for volume in server_of(stack).inputs["volumes"]}
    assert mounts >= SERVER_MOUNTS and not [path for path in mounts if path.startswith("/home/")]


@pytest.mark.parametrize("stack", STACKS)
def test_the_conf_folder_holds_the_rendered_properties(stack):
    uploads = {upload["file"] for upload in server_of(stack).inputs["uploads"]}
    assert {f"/opt/codenvy-data/conf/{name}" for name in PROPERTY_FILES} <= uploads


@pytest.mark.parametrize("stack", STACKS)
def test_tomcats_server_xml_is_mounted_where_the_image_reads_it(stack):
    uploads = {upload["file"] for upload in server_of(stack).inputs["uploads"]}
    assert "/opt/codenvy-tomcat/conf/server.xml" in uploads


def test_java_opts_points_the_server_at_its_conf_folder():
    (java_opts,) = [line for line in server_environment(inputs_of(load_site_config({}))) if line.startswith("JAVA")]
    assert "-Dche.local.conf.dir=/opt/codenvy-data/conf/" in java_opts.split("=", 1)[1].split()


def test_the_heap_stays_below_the_containers_memory_limit():
    site = load_site_config({"codenvy-infra:memory": '{"serverMb": 3000}'})
    (java_opts,) = [line for line in server_environment(inputs_of(site)) if line.startswith("JAVA")]
    (xmx,) = [option for option in java_opts.split() if option.startswith("-Xmx")]
    assert int(xmx.removeprefix("-Xmx").removesuffix("m")) < 3000


def parsed(xml: str) -> ElementTree.Element:
    return ElementTree.fromstring(xml)  # noqa: S314 - the program's own rendering


def jndi_resource(xml: str) -> dict[str, str]:
    (resource,) = parsed(xml).iter("Resource")
    return resource.attrib


def test_server_xml_gives_the_database_as_upstream_names_it():
    resource = jndi_resource(render_server_xml("s3cret"))
    assert (resource["name"], resource["url"]) == ("jdbc/codenvy", "jdbc:postgresql://codenvy-postgres:5432/codenvy")


def test_server_xml_keeps_a_password_with_xml_characters_intact():
    password = "a\"b<c>&d'e"  # noqa: S105 - characters XML must escape
    assert jndi_resource(render_server_xml(password))["password"] == password


def test_server_xml_serves_http_on_8080():
    (connector,) = parsed(render_server_xml("x")).iter("Connector")
    assert connector.attrib["port"] == "8080"


def test_admin_properties_carry_the_initial_credentials():
    props = env_lines(render_admin_properties("root", "pw"))
    assert (props["codenvy.admin.name"], props["codenvy.admin.initial_password"]) == ("root", "pw")


def test_the_limits_reach_general_properties():
    limits = '{"defaults": {"ramMb": 6144, "workspaces": 7, "runtimes": 2, "idleTimeoutMinutes": 30}}'
    general = env_lines(properties_files(inputs_of(load_site_config({"codenvy-infra:limits": limits})))[
        "general.properties"])  # fmt: skip
    keys = ("che.limits.user.workspaces.ram", "che.limits.user.workspaces.count",
            "che.limits.user.workspaces.run.count", "che.limits.workspace.idle.timeout")  # fmt: skip
    assert [general[key] for key in keys] == ["6144mb", "7", "2", str(30 * 60 * 1000)]


def test_the_server_reaches_the_placement_manager_over_tls():
    machine = env_lines(properties_files(inputs_of(load_site_config({})))["machine.properties"])
    assert machine["docker.client.daemon_url"] == "https://codenvy-swarm:2376"


def test_snapshots_off_turns_auto_snapshot_and_restore_off():
    site = load_site_config({"codenvy-infra:registry": '{"snapshots": false}'})
    general = env_lines(properties_files(inputs_of(site))["general.properties"])
    assert (general["che.workspace.auto_snapshot"], general["che.workspace.auto_restore"]) == ("false", "false")


def test_the_workspace_proxy_reaches_general_properties():
    site = load_site_config({"codenvy-infra:proxy": '{"httpProxy": "http://proxy.corp:3128"}'})
    general = env_lines(properties_files(inputs_of(site))["general.properties"])
    assert general["che.workspace.http_proxy"] == "http://proxy.corp:3128"


def test_the_servers_own_proxy_reaches_java_opts():
    site = load_site_config({"codenvy-infra:proxy": '{"httpProxy": "http://proxy.corp:3128"}'})
    (java_opts,) = [line for line in server_environment(inputs_of(site)) if line.startswith("JAVA")]
    assert {"-Dhttp.proxyHost=proxy.corp", "-Dhttp.proxyPort=3128"} <= set(java_opts.split())


def test_codenvy_env_holds_no_secret():
    assert not [key for key in env_lines(render_codenvy_env(inputs_of(load_site_config({})))) if "PASS" in key]


def test_codenvy_env_leaves_the_node_list_to_the_placement_manager():
    """The text is one of the server's uploads, which replace it when they change."""
    raw = {
        "codenvy-infra:network": '{"mode": "overlay"}',
        "codenvy-infra:master": '{"address": "10.9.0.1", "ssh": {}}',
        "codenvy-infra:nodes": '[{"name": "ws1", "address": "10.9.0.2", "ssh": {}}]',
    }
    text = render_codenvy_env(inputs_of(load_site_config(raw)))
    assert "10.9.0.2" not in text and "CODENVY_SWARM_NODES" not in text


def test_no_environment_larger_than_the_largest_workspace_host_is_allowed():
    raw = {
        "codenvy-infra:network": '{"mode": "overlay"}',
        "codenvy-infra:master": '{"address": "10.9.0.1", "ssh": {}, "hostWorkspaces": false}',
        "codenvy-infra:nodes": '[{"name": "a", "address": "10.9.0.2", "ssh": {}, "ramGb": 6},'
        ' {"name": "b", "address": "10.9.0.3", "ssh": {}, "ramGb": 12}]',
    }
    general = env_lines(properties_files(inputs_of(load_site_config(raw)))["general.properties"])
    assert general["che.limits.workspace.env.ram"] == f"{12 * 1024}mb"


# The switches among those properties, with the file that spells them (CODENVY = codenvy/codenvy): upstream
# writes each `true` or `false` (manifests/codenvy.pp getValue defaults, manifests/codenvy.env), lower case.
BOOLEAN_PROPERTIES = {
    "che.workspace.auto_snapshot": "dockerfiles/init/modules/codenvy/templates/general.properties.erb",
    "che.workspace.auto_restore": "dockerfiles/init/modules/codenvy/templates/general.properties.erb",
    "che.docker.registry_for_snapshots": "dockerfiles/init/modules/codenvy/templates/machine.properties.erb",
}


def switches_written(site) -> dict[str, set[str]]:
    """Each switch's values as the server reads it: from its properties file and from codenvy.env."""
    inputs = inputs_of(site)
    files = [env_lines(text) for text in properties_files(inputs).values()]
    variables = env_lines(render_codenvy_env(inputs))
    from_env = [{entry.key: variables[entry.variable] for entry in properties(inputs) if entry.variable in variables}]
    return {key: {lines[key] for lines in [*files, *from_env] if key in lines} for key in BOOLEAN_PROPERTIES}


@pytest.mark.parametrize("snapshots", [True, False])
@pytest.mark.parametrize("stack", STACKS)
def test_every_switch_reaches_the_server_spelled_as_upstream_spells_it(stack, snapshots):
    site = site_config(stack)
    site = site.model_copy(update={"registry": site.registry.model_copy(update={"snapshots": snapshots})})
    spelled = {key: bool(values) and values <= {"true", "false"} for key, values in switches_written(site).items()}
    assert spelled == dict.fromkeys(BOOLEAN_PROPERTIES, True)
