"""What the real engine and the docker provider (pulumi-docker 5.2, bridging kreuzwerker/terraform-provider-docker
v4.5.0) make of the containers the program registers: files uploaded into a container are readable by the user its
image runs as."""

from __future__ import annotations

from typing import Any

import pytest

from components.load_balancer import HAPROXY_CERT_PATH, render_haproxy_cfg
from tests.harness import evaluate, site_config

# The user each image starts as when the container names none (its Dockerfile's USER): the official
# haproxy image runs as `haproxy` (uid 99) since 2.4.
IMAGE_USER = {"haproxy": "haproxy"}


ROOT = ("root", "0", "0:0", "root:root")


def readable_by(user: str, upload: dict[str, Any]) -> bool:
    """The provider writes uploads as root with `permissions` (0644 when none): a tar entry with uid 0
    (resourceDockerContainerCreate)."""
    mode = int(upload.get("permissions") or "0644", 8)
    return user in ROOT or bool(mode & 0o004)


@pytest.mark.parametrize("stack", ["dev", "sim"])
def test_haproxy_starts_as_a_user_that_can_read_every_file_uploaded_into_it(stack):
    site = site_config(stack)
    haproxy = evaluate(stack).named(f"{site.site_name}-master-haproxy").inputs
    user = haproxy.get("user") or IMAGE_USER["haproxy"]
    assert site.https and any(u["file"] == HAPROXY_CERT_PATH for u in haproxy["uploads"])
    assert all(readable_by(user, upload) for upload in haproxy["uploads"]), f"{user} cannot read them"


def test_haproxy_key_stays_readable_by_root_only():
    site = site_config("dev")
    uploads = evaluate("dev").named(f"{site.site_name}-master-haproxy").inputs["uploads"]
    (key,) = [u for u in uploads if u["file"] == HAPROXY_CERT_PATH]
    assert not readable_by(IMAGE_USER["haproxy"], key)


def test_haproxy_drops_root_for_the_images_unprivileged_account():
    cfg = render_haproxy_cfg(site_config("dev").https)
    global_section = cfg.split("\n\n")[0].splitlines()
    assert global_section[0] == "global"
    settings = dict(line.split(None, 1) for line in global_section[1:])
    assert (settings["user"], settings["group"]) == ("haproxy", "haproxy")
