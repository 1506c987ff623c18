"""The tls and random providers made real: keys, certificates and passwords from openssl and htpasswd,
made once per resource and kept in the stack's state like any other output."""

from __future__ import annotations

import secrets
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path


def _openssl(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True, check=True).stdout


def _subject(inputs: dict) -> str:
    subject = inputs.get("subject") or {}
    parts = [("CN", subject.get("commonName")), ("O", subject.get("organization"))]
    return "".join(f"/{key}={value}" for key, value in parts if value) or "/CN=unnamed"


# hashicorp/terraform-provider-tls internal/provider/common_cert.go (keyUsages, extKeyUsages): each
# allowed_uses value is a key usage or an extended key usage of the certificate, as openssl names them.
KEY_USAGES = {
    "digital_signature": "digitalSignature",
    "content_commitment": "nonRepudiation",
    "key_encipherment": "keyEncipherment",
    "data_encipherment": "dataEncipherment",
    "key_agreement": "keyAgreement",
    "cert_signing": "keyCertSign",
    "crl_signing": "cRLSign",
    "encipher_only": "encipherOnly",
    "decipher_only": "decipherOnly",
}
EXTENDED_KEY_USAGES = {
    "any_extended": "anyExtendedKeyUsage",
    "server_auth": "serverAuth",
    "client_auth": "clientAuth",
    "code_signing": "codeSigning",
    "email_protection": "emailProtection",
    "timestamping": "timeStamping",
    "ocsp_signing": "OCSPSigning",
}


def usage_extensions(inputs: dict) -> list[str]:
    """openssl extension lines for a certificate's allowed_uses (and is_ca_certificate)."""
    uses = inputs.get("allowedUses") or []
    unknown = sorted(set(uses) - set(KEY_USAGES) - set(EXTENDED_KEY_USAGES))
    if unknown:
        raise AssertionError(f"allowed_uses the tls provider refuses: {unknown}")
    lines = ["basicConstraints=critical,CA:TRUE"] if inputs.get("isCaCertificate") else []
    key_usages = [KEY_USAGES[use] for use in uses if use in KEY_USAGES]
    extended = [EXTENDED_KEY_USAGES[use] for use in uses if use in EXTENDED_KEY_USAGES]
    lines += [f"keyUsage=critical,{','.join(key_usages)}"] if key_usages else []
    lines += [f"extendedKeyUsage={','.join(extended)}"] if extended else []
    return lines


# What terraform-provider-tls stores for a certificate it issues besides the PEM (common_cert.go
# createCertificate; ready_for_renewal is false at create, the schema's default).
CERTIFICATE_VALIDITY = ("validityStartTime", "validityEndTime", "readyForRenewal")


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def validity(inputs: dict, now: datetime) -> dict:
    """The stored validity: from `now` for validity_period_hours. The renewal decision reads these, never the
    PEM (common_cert.go modifyPlanIfCertificateReadyForRenewal); openssl's whole days cover at least as long."""
    end = now + timedelta(hours=int(inputs.get("validityPeriodHours", 24)))
    return {
        "validityStartTime": rfc3339(now),
        "validityEndTime": rfc3339(end),
        "readyForRenewal": False,
        "earlyRenewalHours": int(inputs.get("earlyRenewalHours") or 0),
    }


def real_tls(resource_type: str, inputs: dict, now: datetime | None = None) -> dict:
    """The outputs of a tls resource made at `now` (the provider's clock; the machine's by default)."""
    issued = validity(inputs, now or datetime.now(UTC))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if resource_type == "tls:index/privateKey:PrivateKey":
            return {"privateKeyPem": _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")}
        (work / "key.pem").write_text(inputs.get("privateKeyPem", ""))
        # Rounded up: the certificate on the wire never expires before the validity the state records.
        days = str(max(1, -(-int(inputs.get("validityPeriodHours", 24)) // 24)))
        if resource_type == "tls:index/selfSignedCert:SelfSignedCert":
            extensions = [argument for line in usage_extensions(inputs) for argument in ("-addext", line)]
            cert = _openssl("req", "-x509", "-new", "-key", str(work / "key.pem"), "-subj", _subject(inputs),
                            "-days", days, *extensions)  # fmt: skip
            return {"certPem": cert, **issued}
        if resource_type == "tls:index/certRequest:CertRequest":
            names = [f"IP:{ip}" for ip in inputs.get("ipAddresses", [])] + [
                f"DNS:{dns}" for dns in inputs.get("dnsNames", [])
            ]
            san = ["-addext", "subjectAltName=" + ",".join(names)] if names else []
            return {
                "certRequestPem": _openssl(
                    "req", "-new", "-key", str(work / "key.pem"), "-subj", _subject(inputs), *san
                )
            }
        if resource_type == "tls:index/locallySignedCert:LocallySignedCert":
            (work / "csr.pem").write_text(inputs["certRequestPem"])
            (work / "ca.pem").write_text(inputs["caCertPem"])
            (work / "ca-key.pem").write_text(inputs["caPrivateKeyPem"])
            (work / "ext.cnf").write_text("".join(f"{line}\n" for line in usage_extensions(inputs)))
            cert = _openssl("x509", "-req", "-in", str(work / "csr.pem"), "-CA", str(work / "ca.pem"),
                            "-CAkey", str(work / "ca-key.pem"), "-CAcreateserial", "-days", days,
                            "-copy_extensions", "copy", "-extfile", str(work / "ext.cnf"))  # fmt: skip
            return {"certPem": cert, **issued}
    raise AssertionError(f"no real TLS stand-in for {resource_type}")


def real_password(length: int) -> dict:
    password = secrets.token_urlsafe(length)[:length]
    line = subprocess.run(["htpasswd", "-nbB", "user", password], capture_output=True, text=True, check=True).stdout
    return {"result": password, "bcryptHash": line.strip().split(":", 1)[1]}
