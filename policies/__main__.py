"""The CrossGuard pack: `pulumi preview --policy-pack policies`."""

from codenvy_policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="codenvy-infra", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
