"""The stand-in engine's tls provider issues what terraform-provider-tls issues: each allowed_uses value a key
usage or an extended key usage (internal/provider/common_cert.go), read back with openssl; and renews as it
renews, by replacing a certificate once its early renewal window opens."""

from __future__ import annotations

import functools
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pulumi_tls as tls
import pytest

from tests.engine.command_provider import CommandProvider
from tests.engine.crypto import real_tls
from tests.engine.docker_provider import ProviderError
from tests.engine.engine import Backend, Engine

KEY = "tls:index/privateKey:PrivateKey"


@functools.cache
def ca() -> tuple[str, str]:
    key = real_tls(KEY, {})["privateKeyPem"]
    inputs = {"privateKeyPem": key, "isCaCertificate": True, "allowedUses": ["cert_signing", "crl_signing"],
              "subject": {"commonName": "lane CA"}}  # fmt: skip
    return key, real_tls("tls:index/selfSignedCert:SelfSignedCert", inputs)["certPem"]


def issued(*uses: str) -> str:
    key = real_tls(KEY, {})["privateKeyPem"]
    request = real_tls("tls:index/certRequest:CertRequest", {"privateKeyPem": key, "subject": {"commonName": "x"}})
    ca_key, ca_cert = ca()
    inputs = {"certRequestPem": request["certRequestPem"], "caCertPem": ca_cert, "caPrivateKeyPem": ca_key,
              "allowedUses": list(uses)}  # fmt: skip
    return real_tls("tls:index/locallySignedCert:LocallySignedCert", inputs)["certPem"]


def purposes(cert: str) -> str:
    return subprocess.run(["openssl", "x509", "-noout", "-purpose"], input=cert, capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


@pytest.mark.parametrize(
    ("uses", "client", "server"),
    [(("server_auth",), "No", "Yes"), (("client_auth",), "Yes", "No"), (("server_auth", "client_auth"), "Yes", "Yes")],
)
def test_a_certificate_serves_or_authenticates_a_client_as_its_allowed_uses_say(uses, client, server):
    stated = purposes(issued("digital_signature", "key_encipherment", *uses))
    assert (f"SSL client : {client}" in stated, f"SSL server : {server}" in stated) == (True, True), stated


def test_the_ca_certificate_is_a_ca():
    assert "CA:TRUE" in subprocess.run(["openssl", "x509", "-noout", "-text"], input=ca()[1], capture_output=True,
                                       text=True, check=True).stdout  # fmt: skip


def test_an_allowed_use_the_provider_does_not_know_is_refused():
    with pytest.raises(AssertionError, match="allowed_uses the tls provider refuses"):
        issued("server_auth", "teleport")


# --- renewal: what `pulumi up` does with a certificate as the clock moves -----------------------------------

LEAF_HOURS, LEAF_EARLY = 48, 24


class Issuer:
    """A program of a CA and one certificate it signs, run by the stand-in engine with a clock of its own."""

    def __init__(self, tmp_path: Path) -> None:
        self.early_renewal_hours = LEAF_EARLY
        commands = CommandProvider(log=lambda line: None, local_cwd=tmp_path)
        self.engine = Engine("test", Backend(), no_docker, commands, program=self.run)
        self.clock = datetime(2030, 1, 1, tzinfo=UTC)
        self.engine.now = lambda: self.clock

    def run(self) -> None:
        ca_key = tls.PrivateKey("ca-key", algorithm="ECDSA", ecdsa_curve="P256")
        ca = tls.SelfSignedCert("ca", private_key_pem=ca_key.private_key_pem, is_ca_certificate=True,
                                validity_period_hours=24 * 365, allowed_uses=["cert_signing"],
                                subject=tls.SelfSignedCertSubjectArgs(common_name="ca"))  # fmt: skip
        key = tls.PrivateKey("key", algorithm="ECDSA", ecdsa_curve="P256")
        request = tls.CertRequest("csr", private_key_pem=key.private_key_pem,
                                  subject=tls.CertRequestSubjectArgs(common_name="leaf"))  # fmt: skip
        tls.LocallySignedCert("leaf", cert_request_pem=request.cert_request_pem,
                              ca_private_key_pem=ca_key.private_key_pem, ca_cert_pem=ca.cert_pem,
                              validity_period_hours=LEAF_HOURS, early_renewal_hours=self.early_renewal_hours,
                              allowed_uses=["server_auth"])  # fmt: skip

    def up_after(self, hours: float) -> dict[str, str]:
        """Each resource's step in an `up` `hours` later (not the delete of a replaced copy)."""
        self.clock += timedelta(hours=hours)
        steps = self.engine.up().steps
        return {step.urn.rsplit("::", 1)[-1]: step.kind for step in steps if step.kind != "delete-replaced"}

    def leaf(self) -> dict:
        return next(r.outputs for r in self.engine.checkpoint.resources if r.urn.endswith("::leaf") and not r.delete)


def no_docker(provider_inputs):
    raise ProviderError("these programs use no Docker")


@pytest.fixture
def issuer(tmp_path) -> Issuer:
    issuer = Issuer(tmp_path)
    issuer.up_after(0)
    return issuer


def test_a_certificate_records_when_it_expires(issuer):
    leaf = issuer.leaf()
    start, end = (datetime.fromisoformat(leaf[key]) for key in ("validityStartTime", "validityEndTime"))
    assert (start, end - start) == (issuer.clock, timedelta(hours=LEAF_HOURS))


def test_an_up_before_the_renewal_window_keeps_the_certificate(issuer):
    assert issuer.up_after(LEAF_HOURS - LEAF_EARLY - 1)["leaf"] == "same"


def test_an_up_inside_the_renewal_window_replaces_the_certificate(issuer):
    assert issuer.up_after(LEAF_HOURS - LEAF_EARLY)["leaf"] == "replace"


def test_a_renewed_certificate_is_a_new_one(issuer):
    before = issuer.leaf()["certPem"]
    issuer.up_after(LEAF_HOURS - LEAF_EARLY)
    assert issuer.leaf()["certPem"] != before


def test_a_renewed_certificate_keeps_its_key_and_request(issuer):
    steps = issuer.up_after(LEAF_HOURS - LEAF_EARLY)
    assert (steps["key"], steps["csr"]) == ("same", "same")


def test_an_expired_certificate_without_early_renewal_is_replaced(tmp_path):
    issuer = Issuer(tmp_path)
    issuer.early_renewal_hours = 0
    issuer.up_after(0)
    assert issuer.up_after(LEAF_HOURS)["leaf"] == "replace"


def test_a_change_of_early_renewal_hours_updates_the_certificate_in_place(issuer):
    issuer.early_renewal_hours = LEAF_EARLY + 1
    assert issuer.up_after(0)["leaf"] == "update"


def test_the_renewed_certificate_counts_its_validity_from_the_renewal(issuer):
    issuer.up_after(LEAF_HOURS - LEAF_EARLY)
    assert datetime.fromisoformat(issuer.leaf()["validityEndTime"]) == issuer.clock + timedelta(hours=LEAF_HOURS)
