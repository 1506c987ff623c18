"""The site's private certificate authority, its generations, and the server and client certificates it signs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pulumi
import pulumi_tls as tls

from components.config import Settings, SiteConfig, config_key, is_ip_address
from components.containers import Aliases

CA_VALIDITY_HOURS = 10 * 365 * 24
# How long before the signing CA expires each `up` warns that its successor is due (certificates.trustedCas).
CA_ROTATION_NOTICE = timedelta(days=365)
SERVER_VALIDITY_HOURS = 365 * 24
# Renew a month before expiry: a `pulumi up` inside that window replaces the certificate (terraform-provider-tls
# common_cert.go modifyPlanIfCertificateReadyForRenewal), signed by the same CA, so every party still trusts it.
SERVER_EARLY_RENEWAL_HOURS = 30 * 24
# What a certificate may be used for (its extended key usages): a TLS server, a TLS client, or both (the
# placement manager presents one certificate to its clients and to every engine).
SERVER_AUTH = ("server_auth",)
CLIENT_AUTH = ("client_auth",)


class CertificateAuthoritySettings(Settings):
    site_name: str
    # The generations that exist and are trusted, and the one that signs (CertificatesConfig).
    trusted: tuple[int, ...]
    signing: int

    @classmethod
    def of(cls, site: SiteConfig) -> CertificateAuthoritySettings:
        return cls(
            site_name=site.site_name, trusted=site.certificates.trusted_cas, signing=site.certificates.signing_ca
        )


@dataclass(frozen=True)
class IssuedCertificate:
    cert_pem: pulumi.Output[str]
    private_key_pem: pulumi.Output[str]


@dataclass(frozen=True)
class _Generation:
    key: tls.PrivateKey
    cert: tls.SelfSignedCert


def trust_bundle(pems: Sequence[str]) -> str:
    """The CA certificates as one PEM file, which Go (Docker, swarm), OpenSSL (socat, HAProxy's clients, wget)
    and libpq all read whole. The provider's PEMs end with a newline: one generation's bundle is its PEM."""
    return "".join(pem if pem.endswith("\n") else pem + "\n" for pem in pems)


def rotation_notice(generation: int, trusted: tuple[int, ...], expires: str | None, now: datetime) -> str | None:
    """What `up` says when the signing CA is within CA_ROTATION_NOTICE of its expiry (the next step of its
    rotation), else None."""
    if not expires:
        return None
    end = datetime.fromisoformat(expires)
    if end - now > CA_ROTATION_NOTICE:
        return None
    successor = generation + 1
    step = (
        f"set {config_key('certificates', 'signingCa')} to {successor}"
        if successor in trusted
        else f"add generation {successor} to {config_key('certificates', 'trustedCas')} and run `up` on every site "
        f"that trusts it, then set {config_key('certificates', 'signingCa')} to {successor}"
    )
    return (
        f"the site CA (generation {generation}) expires {end:%Y-%m-%d}: {step} "
        "(docs/operations.md: When certificates rotate)"
    )


@dataclass(frozen=True, kw_only=True)
class CertificateAuthorityArgs:
    """What CertificateAuthority reads, and the resources it needs."""

    settings: CertificateAuthoritySettings


class CertificateAuthority(pulumi.ComponentResource):
    """Self-signed CAs, one per trusted generation; the signing one signs every certificate of the site.
    `trust_pem` is every trusted generation's certificate in one bundle, which nodes, services and the DR
    standby trust, so a generation is trusted everywhere before anything it signs is served, and stays trusted
    until nothing it signed is. `expires`: when the signing generation does."""

    trust_pem: pulumi.Output[str]
    expires: pulumi.Output[str]

    def __init__(self, name: str, args: CertificateAuthorityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:CertificateAuthority", name, None, opts)
        generations = {
            number: self._generation(name, args.settings.site_name, number) for number in args.settings.trusted
        }
        self._signer = generations[args.settings.signing]
        self.trust_pem = pulumi.Output.all(*(g.cert.cert_pem for g in generations.values())).apply(trust_bundle)
        self.expires = self._signer.cert.validity_end_time
        self.expires.apply(
            lambda end: _warn(rotation_notice(args.settings.signing, args.settings.trusted, end, datetime.now(UTC)))
        )
        self.register_outputs({"trust_pem": self.trust_pem, "expires": self.expires})

    def _generation(self, name: str, site_name: str, number: int) -> _Generation:
        """Generation 1 keeps the names (and URNs) the site's only CA had; later ones are named and titled for
        their number, so verifiers that pick an issuer by subject tell them apart."""
        prefix, title = (
            (name, f"{site_name} site CA") if number == 1 else (f"{name}-{number}", f"{site_name} site CA {number}")
        )
        opts = pulumi.ResourceOptions(parent=self)
        key = tls.PrivateKey(f"{prefix}-key", algorithm="ECDSA", ecdsa_curve="P256", opts=opts)
        cert = tls.SelfSignedCert(
            f"{prefix}-cert",
            private_key_pem=key.private_key_pem,
            is_ca_certificate=True,
            validity_period_hours=CA_VALIDITY_HOURS,
            allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
            subject=tls.SelfSignedCertSubjectArgs(common_name=title, organization="codenvy-infra"),
            opts=opts,
        )
        return _Generation(key, cert)

    def issue(
        self,
        name: str,
        common_name: str,
        subject_names: list[str],
        parent: pulumi.Resource,
        aliases: Aliases | None = None,
        usages: tuple[str, ...] = SERVER_AUTH,
    ) -> IssuedCertificate:
        """A TLS certificate for host names and IP addresses (a server's unless `usages` says otherwise), signed
        by the signing generation, its resources children of `parent` (`aliases`: where they were before)."""
        opts = pulumi.ResourceOptions(parent=parent, aliases=aliases)
        ip_addresses = sorted({name for name in subject_names if is_ip_address(name)})
        dns_names = sorted({name for name in subject_names if not is_ip_address(name)})
        key = tls.PrivateKey(f"{name}-key", algorithm="ECDSA", ecdsa_curve="P256", opts=opts)
        request = tls.CertRequest(
            f"{name}-csr",
            private_key_pem=key.private_key_pem,
            dns_names=dns_names,
            ip_addresses=ip_addresses,
            subject=tls.CertRequestSubjectArgs(common_name=common_name, organization="codenvy-infra"),
            opts=opts,
        )
        cert = tls.LocallySignedCert(
            f"{name}-cert",
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=self._signer.key.private_key_pem,
            ca_cert_pem=self._signer.cert.cert_pem,
            validity_period_hours=SERVER_VALIDITY_HOURS,
            early_renewal_hours=SERVER_EARLY_RENEWAL_HOURS,
            allowed_uses=["digital_signature", "key_encipherment", *usages],
            opts=opts,
        )
        return IssuedCertificate(cert_pem=cert.cert_pem, private_key_pem=pulumi.Output.secret(key.private_key_pem))


def _warn(notice: str | None) -> None:
    if notice:
        pulumi.log.warn(notice)
