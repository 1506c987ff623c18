"""The first `up` of the sim stack: every master service healthy, HTTPS through HAProxy, the registry, the
overlay and the firewall as the program made them, services back after Docker restarts, then nothing to do."""

from __future__ import annotations

import socket
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from scripts.sim.node import DOCKER_PIDFILE
from tests.cluster.images import BUSYBOX_IMAGE
from tests.cluster.lifecycle.steps import LIMITED_USER, node_state, scripts_run_again
from tests.cluster.sim import Node
from tests.cluster.site_driver import MASTER_SERVICES, SITE, Site, api, healthy, wait_for
from tests.engine.engine import Engine, Result


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


# --- nothing to do ------------------------------------------------------------------------------------


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


def test_every_script_run_again_on_the_converged_site_changes_nothing(primary, first_up):
    scripts_run_again(primary)
    assert primary.preview().diff() == []
