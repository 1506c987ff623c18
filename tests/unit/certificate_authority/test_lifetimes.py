"""How long the site CA and the certificates it signs live, read from what the program registers."""

from __future__ import annotations

import functools
from datetime import timedelta

from components.certificate_authority import CA_ROTATION_NOTICE
from tests.harness import Evaluation, evaluate

SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"
LOCALLY_SIGNED = "tls:index/locallySignedCert:LocallySignedCert"
HOUR = timedelta(hours=1)


@functools.cache
def sim() -> Evaluation:
    return evaluate("sim")


def test_a_certificate_just_issued_is_not_yet_due_for_renewal():
    # terraform-provider-tls replaces a certificate once its remaining validity is within early_renewal_hours
    # (internal/provider/common_cert.go, modifyPlanIfCertificateReadyForRenewal): a renewal window as long as
    # the validity would replace every certificate on every `up`.
    due = {
        leaf.name: (leaf.inputs["validityPeriodHours"], leaf.inputs["earlyRenewalHours"])
        for leaf in sim().of_type(LOCALLY_SIGNED)
        if leaf.inputs["validityPeriodHours"] <= leaf.inputs["earlyRenewalHours"]
    }
    assert (bool(sim().of_type(LOCALLY_SIGNED)), due) == (True, {})


def test_the_ca_outlives_every_certificate_it_signs():
    longest_leaf = max(leaf.inputs["validityPeriodHours"] for leaf in sim().of_type(LOCALLY_SIGNED))
    shortest_ca = min(ca.inputs["validityPeriodHours"] for ca in sim().of_type(SELF_SIGNED))
    assert shortest_ca > longest_leaf


def test_a_new_ca_is_not_already_due_for_its_successor():
    shortest_ca = min(ca.inputs["validityPeriodHours"] for ca in sim().of_type(SELF_SIGNED))
    assert shortest_ca * HOUR > CA_ROTATION_NOTICE
