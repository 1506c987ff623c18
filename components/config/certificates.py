"""The site CA's generations: which ones exist and are trusted, and which one signs (its rotation)."""

from __future__ import annotations

from pydantic import Field, PositiveInt, model_validator

from components.config.errors import ConfigKeyError
from components.config.fields import Model

# At most the CA that signed the previous certificates, the one signing now and the one made for the next
# rotation: each rotation step trusts a superset of what the one before it signed.
MAX_TRUSTED_CAS = 3


class CertificatesConfig(Model):
    trusted_cas: tuple[PositiveInt, ...] = Field(
        default=(1,),
        description="Generations of the site CA that exist and that every node, service and the DR standby trust "
        "(one bundle, exported as registryCaCert). docs/operations.md: When certificates rotate.",
    )
    signing_ca: PositiveInt = Field(default=1, description="The CA generation that signs the site's certificates.")

    @model_validator(mode="after")
    def _signing_ca_is_trusted(self) -> CertificatesConfig:
        trusted = list(self.trusted_cas)
        if not trusted or trusted != sorted(set(trusted)) or len(trusted) > MAX_TRUSTED_CAS:
            raise ConfigKeyError(
                ("trustedCas",), f"must be 1 to {MAX_TRUSTED_CAS} distinct generations in increasing order"
            )
        if self.signing_ca not in self.trusted_cas:
            raise ConfigKeyError(
                ("signingCa",), f"must be one of trustedCas {list(self.trusted_cas)}: a CA signs only once trusted"
            )
        return self
