"""The stand-in engine's tls provider issues what terraform-provider-tls issues: each allowed_uses value a key
usage or an extended key usage (internal/provider/common_cert.go), read back with openssl."""

from __future__ import annotations

import functools
import subprocess

import pytest

from tests.engine.crypto import real_tls

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
