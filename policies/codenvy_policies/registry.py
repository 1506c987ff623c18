"""The registry serves TLS: the container labelled as the registry, and any container run from a registry
image, labelled or not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from .common import (
    CONTAINER,
    CONTAINER_LIKE,
    REMOTE_IMAGE,
    container_props,
    labels_of,
    resource_policy,
    stack_policy,
)
from .program_facts import REGISTRY_LABEL, REGISTRY_REPOSITORIES, REGISTRY_TLS_KEY, REGISTRY_TLS_VARIABLES

# The one relaxation, for a throwaway dev stack (the program allows registry.tls false only in dev).
ALLOW_PLAINTEXT = PolicyConfigSchema(
    properties={"allowPlaintext": {"type": "boolean", "default": False}},
)
# What the descriptions say of the registry's images and of the relaxation.
REGISTRY_IMAGES = " or ".join(sorted(REGISTRY_REPOSITORIES))
RELAXED = "Pack config allowPlaintext (default false) relaxes this for a throwaway dev stack."


def _envs(props: Mapping[str, Any]) -> dict[str, str]:
    return dict(str(entry).split("=", 1) for entry in props.get("envs") or [] if "=" in str(entry))


def _repository(image: Any) -> str:
    """The last path component of an image reference, without tag or digest, in lower case."""
    name = str(image or "").partition("@")[0].rsplit("/", 1)[-1]
    return name.partition(":")[0].strip().lower()


def _is_registry(props: Mapping[str, Any]) -> bool:
    """Labelled as the registry (in any case), or run from a registry image."""
    label, value = REGISTRY_LABEL
    labels = {key.strip().lower(): text.strip().lower() for key, text in labels_of(props).items()}
    return labels.get(label) == value or _repository(props.get("image")) in REGISTRY_REPOSITORIES


def _plain_registry(props: Mapping[str, Any]) -> str | None:
    env = _envs(props)
    if not all(env.get(variable) for variable in REGISTRY_TLS_VARIABLES):
        return f"registry serves plain HTTP; set {' and '.join(REGISTRY_TLS_VARIABLES)} ({REGISTRY_TLS_KEY})"
    return None


def _check_registry_tls(args: ResourceValidationArgs) -> str | None:
    props = container_props(args)
    if not _is_registry(props) or args.get_config().get("allowPlaintext"):
        return None
    return _plain_registry(props)


def _validate_registry_images_serve_tls(args: StackValidationArgs, report: ReportViolation) -> None:
    """A container names a pulled image by its ID, so only the stack shows which RemoteImage it runs."""
    if args.get_config().get("allowPlaintext"):
        return
    registry_ids = {
        r.props.get("imageId")
        for r in args.resources
        if r.resource_type == REMOTE_IMAGE and _repository(r.props.get("name")) in REGISTRY_REPOSITORIES
    }
    for resource in args.resources:
        props = resource.props
        # Membership, not `==`: an ordering comparison gave the same answers (no type sorting before a container's
        # has an image), an equivalent mutant for `make mutate`.
        if resource.resource_type in {CONTAINER} and props.get("image") in registry_ids - {None}:
            message = None if _is_registry(props) else _plain_registry(props)  # labelled: the resource rule
            if message:
                report(f"{props.get('name')}: runs a registry image; {message}", resource.urn)


POLICIES: list[Policy] = [
    resource_policy(
        "registry-serves-tls",
        f"The registry (labelled {'='.join(REGISTRY_LABEL)} in any case, or run from a {REGISTRY_IMAGES} image) "
        f"serves TLS: it has a certificate and key. {RELAXED}",
        CONTAINER_LIKE,
        _check_registry_tls,
        config_schema=ALLOW_PLAINTEXT,
    ),
    stack_policy(
        "registry-image-serves-tls",
        f"A container run from a pulled {REGISTRY_IMAGES} image (found through its RemoteImage) serves "
        f"TLS, labelled or not. {RELAXED}",
        _validate_registry_images_serve_tls,
        config_schema=ALLOW_PLAINTEXT,
    ),
]
