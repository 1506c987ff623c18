"""The stand-in's API served with the site's TLS flags on loopback against docker/swarm v1.2.8's own rules; expected
values come from swarm's source (cited per test), worked out by hand, never read back from the stand-in."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.unit.swarm.standin import container, engine, manage, swarm

SPEC_COMMAND = (
    "manage -H tcp://0.0.0.0:2376 --tlsverify --tlscacert={tls}/ca.pem --tlscert={tls}/cert.pem "
    "--tlskey={tls}/key.pem --strategy=spread --heartbeat=10s --engine-refresh-min-interval=5s "
    "--engine-refresh-max-interval=10s --engine-failure-retry=3 --cluster-opt=swarm.createretry=2 "
    "file:///etc/swarm/nodes/node_list"
)


SITE_CERTIFICATES = {  # what the program makes: the manager's (server and client auth) and a client's
    "cert": "subjectAltName=DNS:codenvy-swarm,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
    "client": "extendedKeyUsage=clientAuth\n",
}


@pytest.fixture(scope="module")
def site_ca(tmp_path_factory) -> Path:
    """A CA and the certificates of SITE_CERTIFICATES, from openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    tls = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tls, check=True, capture_output=True)

    authority = ["-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=ca"]
    run("req", *authority, "-keyout", "ca-key.pem", "-out", "ca.pem")
    for name, extensions in SITE_CERTIFICATES.items():
        (tls / f"{name}.ext").write_text(extensions)
        key = "key.pem" if name == "cert" else f"{name}-key.pem"
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", key, "-out", f"{name}.csr")
        signing = ["-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "1"]
        run("x509", "-req", "-in", f"{name}.csr", *signing, "-extfile", f"{name}.ext", "-out", f"{name}.pem")
    return tls


def test_the_site_command_line_reads_as_swarm_would(site_ca):
    parsed = manage(SPEC_COMMAND.format(tls=site_ca))
    seen = (parsed.hosts, parsed.heartbeat, parsed.refresh_min, parsed.refresh_max, parsed.failure_retry)
    assert (*seen, parsed.create_retry, parsed.discovery_path) == (
        ["tcp://0.0.0.0:2376"],
        10.0,
        5.0,
        10.0,
        3,
        2,
        "/etc/swarm/nodes/node_list",
    )


@pytest.fixture
def serving(site_ca):
    """The API on a loopback port with the site's TLS flags, over a cluster of one engine holding "web"."""
    parsed = manage(SPEC_COMMAND.format(tls=site_ca))
    owner = engine("node1")
    container(owner, "web")
    made = swarm.Cluster(swarm.Scheduler("spread", list(swarm.FILTERS)), parsed)
    made.engines = {owner.id: owner}
    handler = type("Handler", (swarm.ApiHandler,), {"cluster": made})
    server = swarm.listen("tcp://127.0.0.1:0", handler, parsed.tls.server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def client_context(site_ca: Path, with_certificate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(site_ca / "ca.pem"))
    if with_certificate:
        context.load_cert_chain(site_ca / "client.pem", site_ca / "client-key.pem")
    return context


def test_a_client_with_a_site_certificate_gets_the_ping(serving, site_ca):
    # api/handlers.go:1089-1091
    with urllib.request.urlopen(f"{serving}/_ping", context=client_context(site_ca, True), timeout=5) as answer:  # noqa: S310
        assert answer.read() == b"OK"


def test_a_client_without_a_certificate_is_refused(serving, site_ca):
    # cli/manage.go:90: RequireAndVerifyClientCert
    with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
        urllib.request.urlopen(f"{serving}/_ping", context=client_context(site_ca, False), timeout=5).read()  # noqa: S310


def test_a_conflicting_name_is_answered_409(serving, site_ca):
    # api/handlers.go:676-678
    body = json.dumps({"Image": "busybox"}).encode()
    request = urllib.request.Request(f"{serving}/v1.24/containers/create?name=web", data=body, method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, context=client_context(site_ca, True), timeout=5)  # noqa: S310
    assert refused.value.code == 409


def test_errors_are_plain_text(serving, site_ca):
    # api/utils.go:23-26: http.Error
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{serving}/containers/nothing/json", context=client_context(site_ca, True), timeout=5)  # noqa: S310
    assert (refused.value.code, refused.value.read()) == (404, b"No such container nothing\n")


def test_info_below_api_1_22_moves_the_rows_to_driver_status(serving, site_ca):
    # api/handlers.go:69-79: indented keys lose one space, the others get a leading backspace.
    with urllib.request.urlopen(f"{serving}/v1.21/info", context=client_context(site_ca, True), timeout=5) as answer:  # noqa: S310
        rows = json.load(answer)["DriverStatus"]
    assert (rows[0], rows[4]) == (["\bRole", "primary"], ["node1", "10.0.0.1:2376"])
