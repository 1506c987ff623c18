"""The site's private certificate authority, and the server and client certificates it signs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_tls as tls

from components.config import is_ip_address

CA_VALIDITY_HOURS = 10 * 365 * 24
SERVER_VALIDITY_HOURS = 365 * 24
# Renew a month before expiry: a `pulumi up` inside that window replaces the certificate.
SERVER_EARLY_RENEWAL_HOURS = 30 * 24
# What a certificate may be used for (its extended key usages): a TLS server, a TLS client, or both (the
# placement manager presents one certificate to its clients and to every engine).
SERVER_AUTH = ("server_auth",)
CLIENT_AUTH = ("client_auth",)


@dataclass(frozen=True)
class IssuedCertificate:
    cert_pem: pulumi.Output[str]
    private_key_pem: pulumi.Output[str]


class CertificateAuthority(pulumi.ComponentResource):
    """A self-signed CA that the registry and HAProxy certificates chain to; nodes trust its certificate."""

    cert_pem: pulumi.Output[str]

    def __init__(self, name: str, site_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:CertificateAuthority", name, None, opts)
        self._key = tls.PrivateKey(
            f"{name}-key", algorithm="ECDSA", ecdsa_curve="P256", opts=pulumi.ResourceOptions(parent=self)
        )
        self._cert = tls.SelfSignedCert(
            f"{name}-cert",
            private_key_pem=self._key.private_key_pem,
            is_ca_certificate=True,
            validity_period_hours=CA_VALIDITY_HOURS,
            allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
            subject=tls.SelfSignedCertSubjectArgs(common_name=f"{site_name} site CA", organization="codenvy-infra"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cert_pem = self._cert.cert_pem
        self.register_outputs({"cert_pem": self.cert_pem})

    def issue(
        self,
        name: str,
        common_name: str,
        subject_names: list[str],
        parent: pulumi.Resource,
        aliases: list[pulumi.Alias] | None = None,
        usages: tuple[str, ...] = SERVER_AUTH,
    ) -> IssuedCertificate:
        """A TLS certificate for host names and IP addresses (a server's unless `usages` says otherwise), its
        resources children of `parent` (`aliases`: where they were before)."""
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
            ca_private_key_pem=self._key.private_key_pem,
            ca_cert_pem=self._cert.cert_pem,
            validity_period_hours=SERVER_VALIDITY_HOURS,
            early_renewal_hours=SERVER_EARLY_RENEWAL_HOURS,
            allowed_uses=["digital_signature", "key_encipherment", *usages],
            opts=opts,
        )
        return IssuedCertificate(cert_pem=cert.cert_pem, private_key_pem=pulumi.Output.secret(key.private_key_pem))
