"""The lifecycle lane: the sim stack's real program converges, changes and goes away on real engines,
step by step as `pulumi up` would take it (tests/engine). Tests run in file order, each from the state
the previous one left; a standby stack converges beside the primary on its own host."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from scripts.sim.node import DOCKER_PIDFILE, GATEWAY
from tests.cluster.dr_pair import MIRROR_KEY_FILE, mirror_key
from tests.cluster.host_state import changes_when_run_again, files_under, host_state
from tests.cluster.images import BUSYBOX_IMAGE
from tests.cluster.sim import Node, lane_engine, sim_worker
from tests.cluster.site_driver import (
    ADMIN_PASSWORD,
    MASTER_SERVICES,
    SITE,
    Site,
    add_user,
    api,
    config_keys,
    create_workspace,
    healthy,
    wait_for,
)
from tests.engine.engine import Backend, Engine, EngineError, Result
from tests.harness import full_stack_name

UPGRADE_VERSION = "5.23.0"
# The admin, which exists from the server's first start on: its ID is its name (codenvy AdminUserCreator).
LIMITED_USER = "admin"
LIMITS = {
    "users": [
        {
            "userId": LIMITED_USER,
            "resources": [{"type": "RAM", "amount": 3072, "unit": "mb"}, {"type": "workspace", "amount": 4}],
        }
    ]
}


@pytest.fixture(scope="module")
def backend() -> Backend:
    return Backend()


@pytest.fixture(scope="module")
def primary(cluster, ssh_agent, backend, tmp_path_factory) -> Site:
    nodes = {node.name: node for node in cluster}
    config = config_keys(
        {
            "adminPassword": ADMIN_PASSWORD,
            "limits": LIMITS,
            "audit": {"enabled": True, "directory": str(tmp_path_factory.mktemp("audit"))},
        }
    )
    return Site(lane_engine("sim", cluster, backend, ssh_agent), nodes, config)


def node_state(primary: Site, hostname: str) -> str:
    listing = primary.master.docker("node", "ls", "--format", "{{.Hostname}} {{.Status}}").stdout
    return dict(line.split() for line in listing.splitlines()).get(hostname, "absent")


def secrets_of(engine: Engine) -> list[str]:
    """Every secret value the stack holds: secret inputs and the outputs made secret by the program."""
    found = []
    for resource in engine.checkpoint.resources:
        for key in resource.secret_inputs:
            found += _strings(resource.inputs.get(key))
        if resource.type == "random:index/randomPassword:RandomPassword":
            found.append(resource.outputs["result"])
        if resource.type.startswith("tls:index/privateKey"):
            found.append(resource.outputs["privateKeyPem"].splitlines()[1])
        if resource.urn.endswith("-swarm-init") or resource.urn.endswith("-join-token"):
            found += [line for line in _strings(resource.outputs.get("stdout")) if "SWMTKN" in line]
    return [value for value in found if len(value) >= 12]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [item for child in value.values() for item in _strings(child)]
    if isinstance(value, list):
        return [item for child in value for item in _strings(child)]
    return []


# --- 1. the first `up` -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_up(primary) -> Result:
    return primary.up()


def test_first_up_runs_every_master_service_healthy(primary, first_up):
    wait_for("the master's services healthy", lambda: healthy(primary))


def test_master_services_all_run_at_once_from_the_programs_own_registrations(primary, first_up):
    registered = {r.inputs["name"] for r in first_up.evaluation.of_type("docker:index/container:Container")}
    running = set(primary.master.docker("ps", "--format", "{{.Names}}").stdout.split())
    assert {f"{primary.name}-{service}" for service in MASTER_SERVICES} <= registered & running


def test_https_through_haproxy_reaches_the_server(primary, first_up):
    status, body = wait_for("the API over HTTPS", lambda: (r := api(primary, "GET", "/")) and r[0] == 200 and r)
    assert status == 200, body


def test_https_is_refused_without_the_site_ca(primary, first_up):
    request = urllib.request.Request(f"{primary.engine.checkpoint.outputs['url']}/api/")  # noqa: S310
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(request, timeout=10, context=ssl.create_default_context())  # noqa: S310


def test_haproxy_key_is_readable_by_root_only(primary, first_up):
    listing = primary.master.docker("exec", f"{primary.name}-haproxy", "stat", "-c", "%a %U",
                                    "/usr/local/etc/haproxy/site.pem").stdout.split()  # fmt: skip
    assert listing == ["600", "root"]


def test_haproxy_serves_as_an_unprivileged_user(primary, first_up):
    """The master process keeps root to reload; the workers that serve traffic drop to the image's user."""
    script = "for p in /proc/[0-9]*; do echo ${p#/proc/} $(cat $p/comm) $(awk '/^Uid:/ {print $2}' $p/status); done"
    listing = primary.master.docker("exec", f"{primary.name}-haproxy", "sh", "-c", script).stdout
    workers = [
        line.split() for line in listing.splitlines() if line.split()[1:2] == ["haproxy"] and line.split()[0] != "1"
    ]
    assert workers and all(uid != "0" for _, _, uid in workers), listing


def test_account_limits_are_stored_on_the_first_up(primary, first_up):
    status, stored = api(primary, "GET", f"/resource/free/{LIMITED_USER}")
    assert status == 200
    assert {item["type"]: item["amount"] for item in stored["resources"]} == {"RAM": 3072, "workspace": 4}


def test_audit_report_is_saved_on_the_first_up(primary, first_up):
    directory = Path(primary.config["codenvy-infra:audit"]["directory"])
    assert [path.name for path in directory.glob("report_*.txt")], "no audit report"


def test_no_secret_appears_in_the_engine_log(primary, first_up):
    log = "\n".join(line.text for line in primary.engine.log)
    leaked = [secret[:6] + "…" for secret in secrets_of(primary.engine) if secret in log]
    assert leaked == [], f"secrets in the log: {leaked}"


def test_workers_joined_the_swarm_and_are_ready(primary, first_up):
    listing = primary.master.docker("node", "ls", "--format", "{{.Hostname}} {{.Status}}").stdout
    assert dict(line.split() for line in listing.splitlines()) == {
        name: "Ready" for name in (SITE.master.name, *(node.name for node in SITE.nodes))
    }


# --- the network, the registry and the firewall the first `up` made ---------------------------------------------


def overlay_network(site: Site) -> str:
    (network,) = [
        r.outputs["name"]
        for r in site.engine.checkpoint.resources
        if r.type == "docker:index/network:Network" and r.inputs.get("driver") == "overlay"
    ]
    return network


def ping_across(site: Site, source: str, target: str) -> str:
    """A container on `source` pings one on `target` by name over the site's overlay network."""
    network, probe = overlay_network(site), f"probe-{target}"
    site.nodes[target].docker("run", "-d", "--rm", "--name", probe, "--network", network, BUSYBOX_IMAGE,
                              "sleep", "600")  # fmt: skip
    try:
        result = site.nodes[source].docker("run", "--rm", "--network", network, BUSYBOX_IMAGE, "ping", "-c", "2",
                                           "-W", "5", probe, check=False)  # fmt: skip
        return result.stdout + result.stderr
    finally:
        site.nodes[target].docker("rm", "-f", probe, check=False)


WORKERS = [node.name for node in SITE.nodes]


def test_overlay_carries_traffic_between_workers_by_container_name(primary, first_up):
    output = ping_across(primary, WORKERS[0], WORKERS[1])
    assert " 0% packet loss" in output, output


def registry_password(result: Result) -> str:
    return result.evaluation.exports["registryPassword"]


def login(node: Node, password: str) -> None:
    node.docker("login", SITE.registry_address, "-u", "codenvy", "--password-stdin", stdin=password)


def test_registry_serves_tls_to_nodes_that_trust_the_site_ca(primary, first_up):
    image = f"{SITE.registry_address}/probe/busybox:1"
    master, worker = primary.master, primary.nodes[WORKERS[0]]
    login(master, registry_password(first_up))
    master.docker("tag", BUSYBOX_IMAGE, image)
    master.docker("push", image)
    login(worker, registry_password(first_up))
    worker.docker("rmi", "-f", image, check=False)
    assert "Downloaded newer image" in worker.docker("pull", image).stdout


def test_registry_refuses_plain_http(primary, first_up):
    plain = primary.nodes[WORKERS[1]].ssh(f"curl -s http://{SITE.registry_address}/v2/", check=False)
    assert "HTTP request to an HTTPS server" in plain.stdout


def test_registry_refuses_clients_without_the_site_ca(primary, first_up):
    untrusted = primary.nodes[WORKERS[1]].ssh(f"curl -s https://{SITE.registry_address}/v2/", check=False)
    assert untrusted.returncode == 60, "curl without the site CA must reject the certificate"


def test_registry_asks_trusted_clients_for_credentials(primary, first_up):
    address = SITE.registry_address
    trusted = primary.nodes[WORKERS[1]].ssh(
        f"curl -s -o /dev/null -w '%{{http_code}}' --cacert /etc/docker/certs.d/{address}/ca.crt https://{address}/v2/"
    )
    assert trusted.stdout == "401"


def reachable(source: Node | None, address: str, port: int) -> bool:
    """A TCP connection from `source` (None: this machine, which is no cluster member) within 3 s."""
    if source is None:
        try:
            socket.create_connection((address, port), timeout=3).close()
        except OSError:
            return False
        return True
    return source.ssh(f"timeout 3 bash -c '</dev/tcp/{address}/{port}'", check=False).returncode == 0


def test_firewall_lets_members_reach_the_manager(primary, first_up):
    worker = primary.nodes[WORKERS[0]]
    assert reachable(worker, primary.master.address, 2377)
    assert reachable(worker, primary.master.address, SITE.registry.port)


def test_firewall_keeps_non_members_from_the_manager(primary, first_up):
    # Both services listen; only the firewall stops this machine, which is outside the cluster.
    assert not reachable(None, primary.master.address, 2377)
    assert not reachable(None, primary.master.address, SITE.registry.port)


def test_firewall_keeps_ssh_open_and_workers_closed_to_joins(primary, first_up):
    worker = primary.nodes[WORKERS[0]]
    assert reachable(None, worker.address, 22)
    assert not reachable(primary.master, worker.address, 2377)


def test_worker_stays_a_member_after_its_dockerd_restarts(primary, first_up):
    worker = primary.nodes[WORKERS[0]]
    worker.ssh(SITE.nodes[0].docker_restart_command)
    wait_for("the worker Ready again", lambda: node_state(primary, worker.name) == "Ready", timeout=60)
    output = ping_across(primary, WORKERS[1], WORKERS[0])
    assert " 0% packet loss" in output, output


def test_the_masters_services_come_back_by_themselves_after_its_docker_restarts(primary, first_up):
    """What a reboot does to the site: the daemon stops every container (PostgreSQL and the server exit 0 on
    SIGTERM) and starts it again; no `up` runs."""
    primary.master.ssh(SITE.master.docker_restart_command)
    wait_for("the master's services healthy again without an up", lambda: healthy(primary))


def test_the_masters_services_come_back_by_themselves_after_its_docker_crashes(primary, first_up):
    """dockerd killed: the daemon that starts again (an init system's Restart=always) finds the site's
    containers still running and stops them, a stop that would count as one by hand."""
    master = primary.master
    pid = master.ssh(f"cat {DOCKER_PIDFILE}").stdout.strip()
    subprocess.run(["kill", "-KILL", pid], check=True)
    wait_for("the killed dockerd gone", lambda: not Path(f"/proc/{pid}").exists())
    master.ssh(SITE.master.docker_restart_command)
    wait_for("the master's services healthy again without an up", lambda: healthy(primary))


# --- 2. nothing to do ------------------------------------------------------------------------------------


def test_second_preview_is_empty(primary, first_up):
    wait_for("healthy before the preview", lambda: healthy(primary))
    assert primary.preview().diff() == []


def test_preview_after_refresh_is_empty(primary, first_up):
    changed = [step.diff() for step in primary.engine.refresh() if step.kind != "same"]
    assert changed == []
    assert primary.preview().diff() == []


def test_second_up_runs_no_script(primary, first_up):
    before = len(primary.engine.log)
    result = primary.up()
    assert result.changes() == []
    assert primary.engine.log[before:] == []


def site_state(site: Site) -> dict[str, dict[str, str]]:
    """Every host's state, and what the local Commands keep where Pulumi runs: the audit reports."""
    hosts = {name: host_state(node) for name, node in site.nodes.items()}
    audit = site.config.get("codenvy-infra:audit", {}).get("directory")
    return {**hosts, "local": files_under(Path(audit), audit)} if audit else hosts


def scripts_run_again(site: Site) -> None:
    """Every script of the site run once more changes nothing it was run on."""
    changed, printed = changes_when_run_again(lambda: site_state(site), site.engine)
    assert changed == [], printed


def test_every_script_run_again_on_the_converged_site_changes_nothing(primary, first_up):
    scripts_run_again(primary)
    assert primary.preview().diff() == []


# --- 3. upgrade ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def user_data(primary, first_up) -> dict[str, Any]:
    """A user, a workspace and a project file written through the API before the upgrade."""
    wait_for("healthy", lambda: healthy(primary))
    user = add_user(primary, "bob")
    workspace = create_workspace(primary, user, "demo")
    status, _ = api(primary, "PUT", f"/project/{workspace}/src/main.py", b"print('hello')\n")
    assert status == 201
    return {"user": user, "workspace": workspace, "stats": api(primary, "GET", "/stats")[1]}


def test_upgrade_plan_is_the_backup_and_the_server_replacement(primary, user_data):
    plan = primary.preview(version=UPGRADE_VERSION).changes()
    assert {(step.urn.rsplit("::", 1)[-1], step.kind) for step in plan} >= {
        (f"{SITE.site_name}-master-pre-upgrade-backup", "replace"),
        (f"{SITE.site_name}-master-server", "replace"),
    }
    others = {step.urn.rsplit("::", 1)[-1] for step in plan} - {
        f"{SITE.site_name}-master-pre-upgrade-backup",
        f"{SITE.site_name}-master-server",
        f"{SITE.site_name}-master-server-image",
    }
    # The version also reaches what reads it: Codenvy's other images of that version (the placement manager,
    # the agents, each host's relay), the tools that record it, and the audit report after an upgrade.
    versioned = ("-placement-", "-agents-", "-relay-", "audit", "backup-tool", "restore-tool")
    assert all(any(part in name for part in versioned) for name in others), others


@pytest.fixture(scope="module")
def upgraded(primary, user_data) -> Result:
    old_server = primary.container("server")["Id"]
    result = primary.up(version=UPGRADE_VERSION)
    primary.remember(version=UPGRADE_VERSION)
    return result, old_server


def test_pre_upgrade_archive_exists_before_the_old_server_stops(primary, upgraded):
    result, _ = upgraded
    order = [step.urn.rsplit("::", 1)[-1] for step in result.steps]
    assert order.index(f"{SITE.site_name}-master-pre-upgrade-backup") < order.index(f"{SITE.site_name}-master-server")
    (archive,) = primary.master.ssh(f"ls -1 {SITE.backup.directory}/codenvy-{SITE.site_name}-*.tar").stdout.split()
    manifest = json.loads(primary.master.ssh(f"tar -xOf {archive} manifest.json").stdout)
    assert (manifest["reason"], manifest["version"]) == ("pre-upgrade", SITE.version)


def test_upgraded_server_runs_the_new_version(primary, upgraded):
    wait_for("healthy after the upgrade", lambda: healthy(primary))
    assert api(primary, "GET", "/stats")[1]["version"] == UPGRADE_VERSION


def test_users_and_files_survive_the_upgrade(primary, upgraded, user_data):
    stats = api(primary, "GET", "/stats")[1]
    assert {key: stats[key] for key in ("users", "workspaces", "files")} == {
        key: user_data["stats"][key] for key in ("users", "workspaces", "files")
    }
    status, content = api(primary, "GET", f"/project/{user_data['workspace']}/src/main.py")
    assert (status, content) == (200, b"print('hello')\n")


def test_upgrade_exports_the_new_version(primary, upgraded):
    assert primary.engine.checkpoint.outputs["version"] == UPGRADE_VERSION


# --- a failed upgrade ------------------------------------------------------------------------------------------

MISSING_VERSION = "5.24.0"  # no engine here has Codenvy's 5.24.0 images, and nothing can be pulled
# Codenvy's own images, tagged with the site's version (upstream's CLI pins them per release).
VERSIONED_IMAGES = (SITE.images.server, SITE.images.swarm, SITE.images.socat, SITE.images.agents)


@pytest.fixture(scope="module")
def failed_upgrade(primary, upgraded) -> str:
    with pytest.raises(EngineError) as caught:
        primary.up(version=MISSING_VERSION)
    return str(caught.value)


def test_a_failed_upgrade_names_the_image_it_could_not_pull(failed_upgrade):
    assert any(f"{repository}:{MISSING_VERSION}" in failed_upgrade for repository in VERSIONED_IMAGES), failed_upgrade


def test_a_failed_upgrade_keeps_the_deployed_version_exported(primary, failed_upgrade):
    assert primary.engine.checkpoint.outputs["version"] == UPGRADE_VERSION


def test_the_site_keeps_serving_after_a_failed_upgrade(primary, failed_upgrade):
    assert api(primary, "GET", "/stats")[1]["version"] == UPGRADE_VERSION


@pytest.fixture(scope="module")
def upgrade_abandoned(primary, failed_upgrade) -> Result:
    return primary.up()


def test_going_back_after_a_failed_upgrade_is_allowed(primary, upgrade_abandoned):
    assert primary.engine.checkpoint.outputs["version"] == UPGRADE_VERSION
    wait_for("healthy", lambda: healthy(primary))


# --- 4, 5. add and remove a workspace node ------------------------------------------------------------------


def sim_workers(primary: Site) -> list[dict[str, Any]]:
    return [sim_worker(primary.nodes[node.name]) for node in SITE.nodes]


@pytest.fixture(scope="module")
def join_refused(primary, upgrade_abandoned) -> str:
    """node4 is added while it cannot reach the manager's swarm port: the `up` fails."""
    node4 = primary.nodes["node4"]
    block = f"OUTPUT -d {SITE.master.address} -p tcp --dport 2377 -j REJECT"
    node4.ssh(f"iptables -I {block}")
    try:
        with pytest.raises(EngineError) as caught:
            primary.up(nodes=[*sim_workers(primary), sim_worker(node4)])
    finally:
        node4.ssh(f"iptables -D {block}")
    return str(caught.value)


def test_a_join_that_cannot_reach_the_manager_fails_naming_the_node(join_refused):
    assert "node4" in join_refused


@pytest.fixture(scope="module")
def node_added(primary, join_refused) -> Result:
    return primary.up(nodes=[*sim_workers(primary), sim_worker(primary.nodes["node4"])])


def member_firewalls(steps) -> set[str]:
    """The other members' firewalls: their swarm ports admit exactly the members, so they follow the set."""
    return {step.urn.rsplit("::", 1)[-1] for step in steps if step.urn.endswith("-firewall") and step.kind == "update"}


def placement_of(node: Node) -> tuple[str, ...]:
    """What placing workspaces on `node` adds on the master and on the node: the manager's node list, the wait
    for its engines, and the node's relay (named for its address)."""
    return ("-placement-node-list", "-placement-ready", f"-relay-{node.address.replace('.', '-')}")


def test_adding_a_node_touches_only_that_node(primary, node_added):
    changes = node_added.changes()
    touched = {step.urn.rsplit("::", 1)[-1] for step in changes} - member_firewalls(changes)
    placement = placement_of(primary.nodes["node4"])
    assert touched and all("node4" in name or any(p in name for p in placement) for name in touched), touched


def test_adding_a_node_replaces_nothing(node_added):
    assert [str(step) for step in node_added.changes() if step.kind != "create" and step.kind != "update"] == []


def test_added_node_joins_and_is_ready(primary, node_added):
    status = primary.master.docker("node", "ls", "--filter", "name=node4", "--format", "{{.Status}}").stdout
    assert status.split() == ["Ready"]


@pytest.fixture(scope="module")
def node_removed(primary, node_added) -> Result:
    return primary.up(nodes=sim_workers(primary))


def test_removed_node_deletes_run_after_every_create(node_removed):
    kinds = [step.kind for step in node_removed.steps]
    first_delete = kinds.index("delete")
    assert all(kind in ("delete", "delete-replaced") for kind in kinds[first_delete:])


def test_removed_node_is_gone_from_the_swarm(primary, node_removed):
    listing = primary.master.docker("node", "ls", "--format", "{{.Hostname}}").stdout.split()
    assert "node4" not in listing
    assert primary.nodes["node4"].docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip() == "inactive"


def test_removing_a_node_changes_nothing_else(primary, node_removed):
    changes = node_removed.changes()
    changed = {step.urn.rsplit("::", 1)[-1] for step in changes} - member_firewalls(changes)
    placement = placement_of(primary.nodes["node4"])
    assert all("node4" in name or any(p in name for p in placement) for name in changed), changed


# --- 9. daemon.json change on the managed master ---------------------------------------------------------------


@pytest.fixture(scope="module")
def daemon_changed(primary, node_removed) -> tuple[Result, dict[str, Any], dict[str, str]]:
    """The master's advertised RAM changes: a label in its daemon.json, nothing any container reads."""
    stats = api(primary, "GET", "/stats")[1]
    containers = {service: primary.container(service)["Id"] for service in MASTER_SERVICES}
    master = SITE.master.model_dump(mode="json", by_alias=True, exclude_none=True)
    primary.remember(master={**master, "ramGb": SITE.master.ram_gb + 0.5})
    return primary.up(), stats, containers


def test_a_daemon_json_change_restarts_only_the_daemon(daemon_changed):
    result, _, _ = daemon_changed
    changed = {step.urn.rsplit("::", 1)[-1] for step in result.changes()}
    assert f"{SITE.site_name}-ws-{SITE.master.name}-daemon-config" in changed
    touched_docker = [str(step) for step in result.changes() if step.type.startswith("docker:")]
    assert touched_docker == []


def test_the_same_containers_run_again_after_the_daemon_restart(primary, daemon_changed):
    _, _, containers = daemon_changed
    wait_for("healthy after the daemon restart", lambda: healthy(primary))
    assert {service: primary.container(service)["Id"] for service in MASTER_SERVICES} == containers


def test_data_intact_after_a_daemon_restart(primary, daemon_changed):
    _, before, _ = daemon_changed
    wait_for("healthy", lambda: healthy(primary))
    assert api(primary, "GET", "/stats")[1] == before


# --- 6. renames: a node under a new name stays a member; a site is not renamed in place -------------------------


def renamed_workers(primary: Site, old: str, new: str) -> list[dict[str, Any]]:
    return [{**w, "name": new} if w["name"] == old else w for w in sim_workers(primary)]


@pytest.fixture(scope="module")
def node_renamed(primary, daemon_changed) -> Result:
    return primary.up(nodes=renamed_workers(primary, "node2", "worker2"))


def test_a_renamed_node_stays_a_ready_member(primary, node_renamed):
    assert node_state(primary, "node2") == "Ready"


def test_a_renamed_node_keeps_its_firewall(primary, node_renamed):
    assert "codenvy" in primary.nodes["node2"].ssh("nft list tables").stdout


def test_a_renamed_node_renamed_back_stays_a_member_with_its_firewall(primary, node_renamed):
    primary.up()
    assert node_state(primary, "node2") == "Ready"
    assert "codenvy" in primary.nodes["node2"].ssh("nft list tables").stdout


def test_a_new_site_name_is_refused_naming_the_key(primary, node_renamed):
    before = [(r.urn, r.id) for r in primary.engine.checkpoint.resources]
    with pytest.raises(EngineError, match="codenvy-infra:siteName"):
        primary.up(siteName="codenvy2")
    assert [(r.urn, r.id) for r in primary.engine.checkpoint.resources] == before


# --- 8. an encrypted overlay -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def encrypted(primary, node_renamed) -> Result:
    primary.remember(network={"mode": "overlay", "encrypted": True})
    return primary.up()


def test_encrypted_overlay_is_created_encrypted(primary, encrypted):
    networks = primary.master.docker("network", "ls", "--filter", "driver=overlay", "--format", "{{.Name}}").stdout
    (name,) = [n for n in networks.split() if n.startswith(SITE.site_name)]
    options = json.loads(primary.master.docker("network", "inspect", name, "--format", "{{json .Options}}").stdout)
    assert options.get("encrypted") == "true"


def test_encrypted_overlay_second_preview_is_empty(primary, encrypted):
    wait_for("healthy on the encrypted overlay", lambda: healthy(primary))
    assert primary.preview().diff() == []


# IP protocol 50. A raw socket hears a packet after the input hook (ip_local_deliver), so it hears what the
# firewall admits whether or not the kernel decrypts ESP (this machine's has no CONFIG_INET_ESP, so no
# encrypted overlay carries traffic here at all; the firewall is what the program owns).
ESP = 50
# Prints "ready", then every source it heard ESP from, once it has heard `wanted` three times or 30 s passed.
ESP_LISTENER = """
import socket, sys, time
wanted, heard, deadline = sys.argv[1], [], time.monotonic() + 30
listener = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
print("ready", flush=True)
while heard.count(wanted) < 3 and time.monotonic() < deadline:
    listener.settimeout(max(deadline - time.monotonic(), 0.01))
    try:
        heard.append(listener.recvfrom(65535)[1][0])
    except TimeoutError:
        break
print(" ".join(sorted(set(heard))), flush=True)
"""
ESP_SENDER = "import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_RAW, 50).sendto(b'esp', (sys.argv[1], 0))"


def esp_heard_by(target: Node, member: Node, outsider_sends) -> set[str]:
    """The sources `target` hears ESP from while the outsider and then the member send, round after round."""
    listen = [*target.enter_argv(), "python3", "-u", "-c", ESP_LISTENER, member.address]
    with subprocess.Popen(listen, stdout=subprocess.PIPE, text=True) as listener:
        assert listener.stdout.readline().strip() == "ready"
        while listener.poll() is None:
            outsider_sends()
            subprocess.run([*member.enter_argv(), "python3", "-c", ESP_SENDER, target.address], check=True)
        return set(listener.stdout.read().split())


def test_encrypted_overlay_esp_passes_the_firewall_from_members_only(primary, encrypted):
    """Docker's overlay documentation and moby#27541: an encrypted overlay's VXLAN travels in IPsec ESP."""
    target, member = primary.nodes["node3"], primary.nodes["node2"]
    outsider = socket.socket(socket.AF_INET, socket.SOCK_RAW, ESP)  # this machine, at the cluster's gateway
    with outsider:
        heard = esp_heard_by(target, member, lambda: outsider.sendto(b"esp" * 8, (target.address, 0)))
    # Where the kernel has ESP, the overlay's own traffic from other members may be heard too.
    assert member.address in heard and GATEWAY not in heard, heard


# --- 12, 7. a standby beside the primary, cold, then promoted ---------------------------------------------------


@pytest.fixture(scope="module")
def standby(cluster, ssh_agent, backend, primary, encrypted) -> Site:
    """A standby matching the primary (version, two workspace hosts of the same capacity): its master on
    node5, which runs workspaces too, and node4 (which left the primary) as its worker."""
    master_host, worker_host = primary.nodes["node5"], primary.nodes["node4"]
    master = {**SITE.master.model_dump(by_alias=True, exclude_none=True), "name": master_host.name,
              "address": master_host.address, "hostWorkspaces": True, "ramGb": SITE.nodes[0].ram_gb,
              "cpus": SITE.nodes[0].cpus}  # fmt: skip
    # The primary lets its standby pull from its registry, as a DR pair must be set up.
    firewall = SITE.firewall.model_dump(mode="json", by_alias=True, exclude_none=True)
    primary.remember(
        firewall={**firewall, "peerCidrs": [f"{master_host.address}/32"]},
        replication={"standbyKeys": [mirror_key(master_host)]},
    )  # its transfer reads as codenvy-mirror
    primary.up()
    config = config_keys(
        {
            "siteName": "codenvy-dr",
            "role": "standby",
            "version": UPGRADE_VERSION,
            "hostname": master_host.address,
            "master": master,
            "nodes": [sim_worker(worker_host)],
            "dr": {
                "primaryStack": full_stack_name("sim"),
                "standby": "cold",
                "sshKeyFile": MIRROR_KEY_FILE,
                "transferSchedule": "30 2 * * *",
            },
        }
    )
    engine = lane_engine("sim-dr", cluster, backend, ssh_agent)
    return Site(engine, {n.name: n for n in cluster}, config)


@pytest.fixture(scope="module")
def cold_standby(standby) -> Result:
    return standby.up()


def test_cold_standby_keeps_its_services_stopped(standby, cold_standby):
    assert not any(standby.container(service)["State"]["Running"] for service in MASTER_SERVICES)


def test_cold_standby_second_preview_is_empty(standby, cold_standby):
    assert standby.preview().diff() == []


def test_every_script_run_again_on_the_cold_standby_changes_nothing(standby, cold_standby):
    scripts_run_again(standby)


@pytest.fixture(scope="module")
def transferred(primary, standby, cold_standby) -> dict[str, Any]:
    primary.master.ssh(f"{SITE.backup.tools_directory}/codenvy-backup-{SITE.site_name}")
    standby.master.ssh(f"{SITE.backup.tools_directory}/codenvy-transfer-codenvy-dr")
    return api(primary, "GET", "/stats")[1]


@pytest.fixture(scope="module")
def cold_backup(standby, transferred) -> str:
    """The cold standby's own backup, as its nightly crontab line makes it after a transfer: the archive's path."""
    return standby.master.ssh(f"{SITE.backup.tools_directory}/codenvy-backup-{standby.name}").stdout.split()[-1]


def database_sum(site: Site, archive: str) -> str:
    return json.loads(site.master.ssh(f"tar -xOf {archive} manifest.json").stdout)["members"]["database.dump"]


def test_cold_standby_backs_up_the_database_its_promotion_restores(standby, cold_backup):
    staged = standby.master.ssh(f"ls -1t {SITE.backup.directory}/incoming/*.tar | head -n 1").stdout.strip()
    assert database_sum(standby, cold_backup) == database_sum(standby, staged)


def test_cold_standby_backup_starts_no_service(standby, cold_backup):
    assert not any(standby.container(service)["State"]["Running"] for service in MASTER_SERVICES)


@pytest.fixture(scope="module")
def promoted(standby, transferred) -> Result:
    dr = {**standby.config["codenvy-infra:dr"], "promote": True}
    standby.remember(dr=dr)
    return standby.up()


def test_promotion_starts_every_service(standby, promoted):
    wait_for("the promoted standby healthy", lambda: healthy(standby))


def test_promotion_removes_the_transfer_tool_and_its_schedule(standby, promoted):
    tools = standby.master.ssh(f"ls {SITE.backup.tools_directory}").stdout
    assert "codenvy-transfer-codenvy-dr" not in tools
    crontab = standby.master.ssh("crontab -l 2> /dev/null || true").stdout
    assert "transfer" not in crontab


def test_promoted_standby_has_the_primarys_data_as_of_the_transfer(standby, primary, promoted, transferred):
    wait_for("the promoted standby healthy", lambda: healthy(standby))
    stats = api(standby, "GET", "/stats", ca=standby.engine.checkpoint.outputs["registryCaCert"])[1]
    assert {k: stats[k] for k in ("users", "workspaces", "files", "limits")} == {
        k: transferred[k] for k in ("users", "workspaces", "files", "limits")
    }


def test_promoted_standby_claims_the_dns_record(standby, promoted):
    assert standby.engine.checkpoint.outputs["dnsRecord"]["value"] == standby.master.address


def test_promoted_standby_second_preview_is_empty(standby, promoted):
    assert standby.preview().diff() == []


def test_every_script_run_again_on_the_promoted_standby_changes_nothing(standby, promoted):
    scripts_run_again(standby)


# --- restore refuses what it must, on the promoted standby -------------------------------------------------


def fingerprint(site: Site) -> dict[str, Any]:
    return api(site, "GET", "/stats", ca=site.engine.checkpoint.outputs["registryCaCert"])[1]


def restore_damaged_copy(standby: Site, damage: str) -> subprocess.CompletedProcess:
    """The standby's restore tool on a damaged copy of the archive it fetched from the primary."""
    node = standby.master
    node.ssh(f"rm -rf /tmp/damaged && mkdir /tmp/damaged && cp \"$(ls -1t {SITE.backup.directory}/incoming/*.tar "
             f"| head -n 1)\" /tmp/damaged/a.tar && cd /tmp/damaged && {damage}")  # fmt: skip
    return node.ssh(f"{SITE.backup.tools_directory}/codenvy-restore-{standby.name} /tmp/damaged/a.tar", check=False)


def test_the_cold_standbys_own_backup_restores_into_the_promoted_site(standby, cold_backup, promoted):
    before = fingerprint(standby)
    restore = f"{SITE.backup.tools_directory}/codenvy-restore-{standby.name} {cold_backup}"
    result = standby.master.ssh(restore, check=False)
    assert result.returncode == 0, result.stderr
    assert fingerprint(standby) == before


def test_restore_refuses_a_truncated_archive_and_changes_nothing(standby, promoted):
    before = fingerprint(standby)
    result = restore_damaged_copy(standby, "truncate -s 4096 a.tar")
    assert result.returncode != 0 and "corrupt or truncated" in result.stderr
    assert fingerprint(standby) == before


def test_restore_refuses_a_tampered_member(standby, promoted):
    before = fingerprint(standby)
    result = restore_damaged_copy(
        standby, "mkdir x && tar -xf a.tar -C x && echo junk >> x/fs.tar && tar -C x -cf a.tar ."
    )
    assert result.returncode != 0 and "checksums" in result.stderr
    assert fingerprint(standby) == before


# The primary's fs.tar with a device node and a setuid file added, and the sums made again, as a hostile primary
# would: only the restore's own look at fs.tar stands between them and docker cp.
HOSTILE_FS = ("mkdir x f f/fs && tar -xf a.tar -C x && mknod f/fs/null c 1 3 && cp /bin/true f/fs/suid && "
              "chmod 4755 f/fs/suid && tar -C f -rf x/fs.tar fs/null fs/suid && (cd x && sha256sum database.dump "
              "fs.tar instance.tar manifest.json > SHA256SUMS) && ")  # fmt: skip


def test_restore_refuses_device_and_setuid_entries_naming_them(standby, promoted):
    """About 2 s."""
    before = fingerprint(standby)
    result = restore_damaged_copy(standby, HOSTILE_FS + REPACK)
    assert result.returncode != 0
    assert "fs/null (a device node)" in result.stderr and "fs/suid (setuid)" in result.stderr
    assert fingerprint(standby) == before


NEWER_MANIFEST = 'sed -i \'s/"version": "[^"]*"/"version": "9.0.0"/\' x/manifest.json'
REPACK = "tar -C x -cf a.tar manifest.json SHA256SUMS database.dump fs.tar instance.tar"


def test_restore_refuses_an_edited_manifest(standby, promoted):
    before = fingerprint(standby)
    result = restore_damaged_copy(standby, f"mkdir x && tar -xf a.tar -C x && {NEWER_MANIFEST} && {REPACK}")
    assert result.returncode != 0 and "checksums" in result.stderr
    assert fingerprint(standby) == before


def test_restore_refuses_a_backup_from_a_newer_version(standby, promoted):
    before = fingerprint(standby)
    resum = "(cd x && sha256sum database.dump fs.tar instance.tar manifest.json > SHA256SUMS)"
    result = restore_damaged_copy(standby, f"mkdir x && tar -xf a.tar -C x && {NEWER_MANIFEST} && {resum} && {REPACK}")
    assert result.returncode != 0 and "from 9.0.0, newer than this site's" in result.stderr
    assert fingerprint(standby) == before


# --- 10. a worker that is gone for good ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def dead_worker_removed(primary, promoted) -> list[Result]:
    """node3 dies for good; the runbook (docs/operations.md): mark it `lost`, `up`, then drop it from the file,
    `up`. The engine log's length before, on the list's end: what the two runs logged follows it."""
    primary.log_mark = len(primary.engine.log)
    dead = primary.nodes["node3"]
    # Its own daemons only: every node sees every process of this machine, but /run is its own.
    dead.ssh("kill $(cat /run/docker.pid) $(cat /run/sshd.pid)", check=False)
    wait_for("node3 down on the manager", lambda: "Down" in primary.master.docker(
        "node", "ls", "--filter", "name=node3", "--format", "{{.Status}}").stdout, timeout=90)  # fmt: skip
    workers = sim_workers(primary)
    # `--refresh=false` both times: a refresh would read node3's containers through its dead daemon, and fail.
    marked = primary.up(nodes=[{**w, "lost": True} if w["name"] == "node3" else w for w in workers], refresh=False)
    primary.remember(nodes=[w for w in workers if w["name"] != "node3"])
    return [marked, primary.up(refresh=False)]


def test_removing_an_unreachable_worker_finishes(dead_worker_removed):
    _, removed = dead_worker_removed
    assert any(step.kind == "delete" and "node3" in step.urn for step in removed.steps)


def test_removing_an_unreachable_worker_runs_nothing_on_it(primary, dead_worker_removed):
    node3 = primary.nodes["node3"].address
    logged = primary.engine.log[primary.log_mark :]
    touched = [line.text for line in logged if node3 in line.text and line.severity == "error"]
    assert touched == []


def test_manager_no_longer_lists_the_unreachable_worker(primary, dead_worker_removed):
    assert "node3" not in primary.master.docker("node", "ls", "--format", "{{.Hostname}}").stdout.split()


# --- 11. destroy ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def destroyed(primary, standby, dead_worker_removed):
    standby.engine.destroy()
    primary.engine.destroy()
    return primary


def test_destroy_keeps_the_data_volumes(primary, destroyed):
    volumes = primary.master.docker("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert {f"{SITE.site_name}-pgdata", f"{SITE.site_name}-fs", f"{SITE.site_name}-registry-data"} <= set(volumes)


def test_destroy_leaves_hosts_clean(primary, destroyed):
    for name in (SITE.master.name, "node2"):
        node = primary.nodes[name]
        assert node.docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip() == "inactive", name
        assert "codenvy" not in node.ssh("nft list tables").stdout, name
        assert "codenvy" not in node.ssh("crontab -l 2> /dev/null || true").stdout, name
    tools = primary.master.ssh(f"ls {SITE.backup.tools_directory}").stdout
    assert tools.split() == [], tools
    assert primary.master.docker("ps", "-aq").stdout.split() == []


def test_destroy_leaves_an_empty_state(primary, destroyed):
    assert primary.engine.checkpoint.resources == []
