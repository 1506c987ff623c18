"""The site CA's generations: which ones every party trusts, which one signs, and how a rotation moves through
config, so that each `up` of it trusts a superset of what the previous one signed."""

from __future__ import annotations

import functools
import logging
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from components.certificate_authority import CA_ROTATION_NOTICE, rotation_notice, trust_bundle
from components.config_loader import ConfigError
from tests.engine.crypto import real_tls
from tests.harness import Evaluation, FabricatingMocks, evaluate, primary_as_shipped, stack_file_config

SITE = "codenvy"  # Pulumi.sim.yaml's siteName
SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"
LOCALLY_SIGNED = "tls:index/locallySignedCert:LocallySignedCert"


@functools.cache
def generations(trusted: tuple[int, ...], signing: int) -> Evaluation:
    return evaluate("sim", {"codenvy-infra:certificates": {"trustedCas": list(trusted), "signingCa": signing}})


def ca_cert(evaluation: Evaluation, generation: int) -> str:
    name = f"{SITE}-ca-cert" if generation == 1 else f"{SITE}-ca-{generation}-cert"
    return evaluation.named(name).outputs["certPem"]


def strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(key, text) for every string inside an input value, nested ones under the key they sit in."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for inner, item in value.items():
            yield from strings(item, inner)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, key)


def trusting_inputs(evaluation: Evaluation, pem: str) -> dict[str, list[str]]:
    """Every resource input (but a certificate's own signer) that carries `pem`, by resource name."""
    found: dict[str, list[str]] = {}
    for registration in evaluation.resources:
        for key, text in strings(registration.inputs):
            if pem in text and key not in ("caCertPem", "certPem"):
                found.setdefault(registration.name, []).append(text)
    return found


def test_generation_one_keeps_the_names_of_the_sites_only_ca():
    assert generations((1,), 1).named(f"{SITE}-ca-cert").type == SELF_SIGNED


def test_every_party_that_trusts_the_site_ca_trusts_every_trusted_generation():
    evaluation = generations((1, 2), 1)
    second = ca_cert(evaluation, 2)
    carriers = trusting_inputs(evaluation, ca_cert(evaluation, 1))
    missing = sorted(name for name, texts in carriers.items() if not all(second in text for text in texts))
    assert (bool(carriers), missing) == (True, [])


def test_the_exported_ca_certificate_is_the_trust_bundle():
    evaluation = generations((1, 2), 2)
    assert evaluation.exports["registryCaCert"] == trust_bundle([ca_cert(evaluation, 1), ca_cert(evaluation, 2)])


@pytest.mark.parametrize("signing", [1, 2])
def test_every_certificate_is_signed_by_the_signing_generation(signing):
    evaluation = generations((1, 2), signing)
    signers = {leaf.inputs["caCertPem"] for leaf in evaluation.of_type(LOCALLY_SIGNED)}
    assert signers == {ca_cert(evaluation, signing)}


def leaf_inputs(evaluation: Evaluation) -> dict[str, dict]:
    return {leaf.urn: leaf.inputs for leaf in evaluation.of_type(LOCALLY_SIGNED)}


def test_adding_a_generation_re_signs_nothing():
    assert leaf_inputs(generations((1, 2), 1)) == leaf_inputs(generations((1,), 1))


def test_moving_the_signer_to_a_trusted_generation_changes_no_trust():
    assert generations((1, 2), 2).exports["registryCaCert"] == generations((1, 2), 1).exports["registryCaCert"]


def test_generations_have_subjects_of_their_own():
    evaluation = generations((1, 2), 1)
    subjects = [registration.inputs["subject"] for registration in evaluation.of_type(SELF_SIGNED)]
    assert len({str(sorted(subject.items())) for subject in subjects}) == 2


@pytest.mark.parametrize(
    ("certificates", "key"),
    [
        ({"trustedCas": [1], "signingCa": 2}, "codenvy-infra:certificates.signingCa"),
        ({"trustedCas": [2, 1]}, "codenvy-infra:certificates.trustedCas"),
        ({"trustedCas": [1, 1]}, "codenvy-infra:certificates.trustedCas"),
        ({"trustedCas": [1, 2, 3, 4]}, "codenvy-infra:certificates.trustedCas"),
        ({"trustedCas": []}, "codenvy-infra:certificates.trustedCas"),
    ],
)
def test_a_signer_or_generations_the_rotation_cannot_follow_are_refused_by_key(certificates, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        evaluate("sim", {"codenvy-infra:certificates": certificates})


# --- the bundle verifies what either generation signs (OpenSSL, as socat, wget and libpq verify) ------------


def issued_by(ca_inputs: dict, ca: dict) -> str:
    key = real_tls("tls:index/privateKey:PrivateKey", {})["privateKeyPem"]
    request = real_tls("tls:index/certRequest:CertRequest", {"privateKeyPem": key, "subject": {"commonName": "x"}})
    inputs = {"certRequestPem": request["certRequestPem"], "caCertPem": ca["certPem"],
              "caPrivateKeyPem": ca_inputs["privateKeyPem"], "allowedUses": ["server_auth"]}  # fmt: skip
    return real_tls(LOCALLY_SIGNED, inputs)["certPem"]


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_the_bundle_verifies_certificates_of_either_generation(tmp_path: Path, order):
    """The program's CA subjects, made real: OpenSSL picks an issuer by subject, so two generations named
    alike would fail whichever one comes second in the bundle."""
    cas = []
    for registration in sorted(generations((1, 2), 1).of_type(SELF_SIGNED), key=lambda r: r.name):
        inputs = {
            **registration.inputs,
            "privateKeyPem": real_tls("tls:index/privateKey:PrivateKey", {})["privateKeyPem"],
        }
        cas.append((inputs, real_tls(SELF_SIGNED, inputs)))
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(trust_bundle([cas[index][1]["certPem"] for index in order]))
    verified = []
    for inputs, ca in cas:
        leaf = tmp_path / "leaf.pem"
        leaf.write_text(issued_by(inputs, ca))
        run = subprocess.run(["openssl", "verify", "-CAfile", str(bundle), str(leaf)], capture_output=True, text=True)
        verified.append(run.returncode == 0)
    assert verified == [True, True]


# --- when the operator hears that a rotation is due ----------------------------------------------------------

NOW = datetime(2030, 6, 1, tzinfo=UTC)


def test_no_notice_while_the_signing_ca_has_long_to_live():
    assert rotation_notice(1, (1,), (NOW + CA_ROTATION_NOTICE + timedelta(days=1)).isoformat(), NOW) is None


def test_a_signing_ca_near_its_expiry_asks_for_the_next_generation_by_key():
    notice = rotation_notice(1, (1,), (NOW + timedelta(days=30)).isoformat(), NOW) or ""
    assert ("codenvy-infra:certificates.trustedCas" in notice, "generation 2" in notice) == (True, True)


def test_once_the_next_generation_is_trusted_the_notice_asks_to_sign_with_it():
    notice = rotation_notice(1, (1, 2), (NOW + timedelta(days=30)).isoformat(), NOW) or ""
    assert ("codenvy-infra:certificates.signingCa to 2" in notice, "trustedCas" in notice) == (True, False)


# --- what a renewal of the site's certificates touches ---------------------------------------------------------


class RenewedLeaves(FabricatingMocks):
    """The provider after a renewal: every certificate the CA signed is a new one; keys and the CA are kept."""

    def new_resource(self, args):
        resource_id, outputs = super().new_resource(args)
        if args.typ == LOCALLY_SIGNED:
            outputs["certPem"] = "RENEWED-" + outputs["certPem"]
        return resource_id, outputs


def changed(before: Evaluation, after: Evaluation) -> set[str]:
    old = {registration.urn: registration.inputs for registration in before.resources}
    return {r.name for r in after.resources if r.type != LOCALLY_SIGNED and old.get(r.urn) != r.inputs}


def test_a_renewal_touches_only_the_services_that_present_a_certificate():
    """The registry, HAProxy, each relay, the manager and the server (its client certificate) are replaced;
    PostgreSQL's files are written again and reloaded. No node's trust and no other resource changes."""
    streams = {"codenvy-infra:replication": {"standbyAddresses": ["10.77.0.21"]}}
    before = evaluate("sim", streams)
    renewed = evaluate("sim", streams, mocks=RenewedLeaves(primary_as_shipped(stack_file_config("sim"))))
    assert changed(before, renewed) == {
        f"{SITE}-registry-container",
        f"{SITE}-master-haproxy",
        f"{SITE}-relay-10-77-0-12-container",
        f"{SITE}-relay-10-77-0-13-container",
        f"{SITE}-master-placement-container",
        f"{SITE}-master-server",
        f"{SITE}-master-replication-config",
    }


class ExpiringCa(FabricatingMocks):
    """The provider's state a month before the site CA expires; the program's warnings go to `warnings`."""

    def __init__(self) -> None:
        super().__init__(primary_as_shipped(stack_file_config("sim")))
        self.warnings: list[str] = []
        self.logger = logging.getLogger("expiring-ca")
        self.logger.addHandler(Collecting(self.warnings))

    def new_resource(self, args):
        resource_id, outputs = super().new_resource(args)
        if args.typ == SELF_SIGNED:
            outputs["validityEndTime"] = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        return resource_id, outputs


class Collecting(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


def test_an_up_a_month_before_the_ca_expires_warns_of_the_rotation():
    mocks = ExpiringCa()
    evaluate("sim", mocks=mocks)
    assert any("certificates.trustedCas" in warning for warning in mocks.warnings), mocks.warnings


CERT_REQUEST = "tls:index/certRequest:CertRequest"


@pytest.mark.parametrize("stack", ["sim", "dev"])
def test_every_certificate_that_names_a_host_is_marked_for_tls_servers(stack):
    """A certificate with subject alternative names is a server's: its clients check them against the host
    they dialled. Go (crypto/x509 verify.go) and OpenSSL take one without extended key usages for any purpose,
    but Apple's clients (macOS 10.15, iOS 13 and later: Safari, curl) refuse a TLS server certificate whose
    extended key usages lack serverAuth, and one that has others but not serverAuth is refused by all."""
    evaluation = evaluate(stack)
    names_hosts = {
        r.outputs["certRequestPem"]: bool(r.inputs.get("dnsNames") or r.inputs.get("ipAddresses"))
        for r in evaluation.of_type(CERT_REQUEST)
    }
    servers = [cert for cert in evaluation.of_type(LOCALLY_SIGNED) if names_hosts[cert.inputs["certRequestPem"]]]
    assert servers and [cert.name for cert in servers if "server_auth" not in cert.inputs["allowedUses"]] == []
