"""Container settings that defeat the hygiene rules through their structure or spelling."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.policies.pack import of, service, stack_args, tripped, violations

DIGEST = "sha256:" + "d" * 64


def without_tls(registration) -> list[str]:
    return [env for env in registration.inputs["envs"] if not env.startswith("REGISTRY_HTTP_TLS_")]


# --- the registry -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    ["registry:2.8.3", "library/registry:2.8.3", "docker.io/library/Registry:2.8.3", f"registry:2@{DIGEST}"],
)
def test_registry_known_by_its_image_without_the_label_is_caught(registry, image):
    args = of(registry, image=image, labels=[], envs=without_tls(registry))
    (message,) = tripped(args, "registry-serves-tls")
    assert "set REGISTRY_HTTP_TLS_CERTIFICATE" in message


def registry_stack(sim, **changes):
    """The sim stack with the registry container's inputs changed."""

    def change(resource):
        if resource.name != "codenvy-registry-container":
            return resource
        return replace(resource, inputs={**resource.inputs, **changes}, outputs={**resource.outputs, **changes})

    return type(sim)(resources=[change(r) for r in sim.resources])


def test_unlabelled_container_of_the_pulled_registry_image_is_caught(sim, registry):
    """The program names a pulled image by its ID: only the RemoteImage beside it says it is the registry."""
    unlabelled = registry_stack(sim, labels=[], envs=without_tls(registry))
    (message,) = tripped(stack_args(unlabelled), "registry-image-serves-tls")
    assert "runs a registry image" in message


def test_unlabelled_registry_image_with_tls_passes(sim):
    assert tripped(stack_args(registry_stack(sim, labels=[])), "registry-image-serves-tls") == []


def test_pack_config_relaxes_the_unlabelled_registry_image(sim, registry):
    unlabelled = registry_stack(sim, labels=[], envs=without_tls(registry))
    relaxed = stack_args(unlabelled, config={"allowPlaintext": True})
    assert tripped(relaxed, "registry-image-serves-tls") == []


@pytest.mark.parametrize(
    ("label", "value"),
    [("Codenvy.Service", "registry"), ("codenvy.service", "Registry"), (" codenvy.service", "registry ")],
)
def test_registry_label_in_another_case_is_caught(registry, label, value):
    args = of(registry, labels=[{"label": label, "value": value}], envs=without_tls(registry))
    assert tripped(args, "registry-serves-tls")


@pytest.mark.parametrize("image", ["codenvy/registry-client:1.0", "postgres:16.4", "registry.example.com/app:1.0"])
def test_other_images_are_not_held_to_registry_tls(postgres, image):
    assert tripped(of(postgres, image=image), "registry-serves-tls") == []


# --- mutable tags and swap --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image", ["postgres:stable", "postgres:LATEST", "postgres:Latest", "nginx:mainline", "postgres:alpine"]
)
def test_channel_tag_is_caught(postgres, image):
    (message,) = tripped(of(postgres, image=image), "container-image-pinned")
    assert image in message


def test_service_channel_tag_is_caught():
    assert tripped(service(spec={"image": "postgres:stable"}), "container-image-pinned")


@pytest.mark.parametrize("image", ["postgres:16.4", "postgres:16-alpine", "codenvy/codenvy:5.22.0", "nginx:1.27"])
def test_version_tag_passes(postgres, image):
    assert violations(of(postgres, image=image)) == {}


def test_unlimited_swap_is_caught(postgres):
    (message,) = tripped(of(postgres, memorySwap=-1), "container-memory-limit")
    assert "memorySwap" in message


def test_swap_bounded_by_memory_passes(postgres):
    assert violations(of(postgres, memorySwap=postgres.inputs["memory"])) == {}


# --- healthchecks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tests", [["NONE"], ["none"], [" NONE "]])
def test_healthcheck_of_none_is_caught(postgres, tests):
    (message,) = tripped(of(postgres, healthcheck={"tests": tests}), "container-healthcheck")
    assert "NONE" in message


def test_service_healthcheck_of_none_is_caught():
    assert tripped(service(spec={"healthcheck": {"tests": ["NONE"]}}), "container-healthcheck")


# --- log sizes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("driver", "options"),
    [
        ("local", {"max-size": "1000000g"}),
        ("local", {"max-size": "20m", "max-file": "100000"}),
        ("local", {"max-size": "-1"}),
        ("json-file", {"max-size": "500g", "max-file": "3"}),
        ("json-file", {"max-size": "ten megabytes"}),
        (None, {"max-size": "10m", "max-file": "1000000"}),
    ],
)
def test_unbounded_log_size_is_caught(postgres, driver, options):
    (message,) = tripped(of(postgres, logDriver=driver, logOpts=options), "container-log-limits")
    assert "logOpts" in message


def test_service_unbounded_local_log_is_caught():
    log_driver = {"name": "local", "options": {"max-size": "1000000g"}}
    assert tripped(service(task={"logDriver": log_driver}), "container-log-limits")


@pytest.mark.parametrize(
    ("driver", "options"),
    [
        ("local", {}),  # moby daemon/logger/local: 20 MB files, 5 of them
        ("local", {"max-size": "10m", "max-file": "3"}),
        ("json-file", {"max-size": "10MiB", "max-file": "3"}),
        ("json-file", {"max-size": "100 kb"}),
    ],
)
def test_bounded_log_size_passes(postgres, driver, options):
    assert violations(of(postgres, logDriver=driver, logOpts=options)) == {}
