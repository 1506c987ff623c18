"""The primary's routes (api/primary.go)."""

from __future__ import annotations

import re


def _route(pattern: str) -> re.Pattern:
    # api/primary.go:184-185: every route also under /v{version:[0-9]+.[0-9]+}.
    return re.compile(r"(?:/v(?P<version>[0-9]+.[0-9]+))?" + pattern)


ROUTES = [  # api/primary.go:35-105 (method, path, handler)
    ("HEAD", r"/containers/(?P<name>.*)/archive", "proxy_container"),
    ("GET", r"/_ping", "ping"),
    ("GET", r"/events", "not_in_stand_in"),
    ("GET", r"/info", "get_info"),
    ("GET", r"/version", "get_version"),
    ("GET", r"/images/json", "get_images_json"),
    ("GET", r"/images/viz", "not_implemented"),
    ("GET", r"/images/search", "proxy_random"),
    ("GET", r"/images/get", "not_in_stand_in"),
    ("GET", r"/images/(?P<name>.*)/get", "proxy_image_get"),
    ("GET", r"/images/(?P<name>.*)/history", "proxy_image"),
    ("GET", r"/images/(?P<name>.*)/json", "proxy_image"),
    ("GET", r"/containers/ps", "get_containers_json"),
    ("GET", r"/containers/json", "get_containers_json"),
    ("GET", r"/containers/(?P<name>.*)/archive", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/export", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/changes", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/json", "get_container_json"),
    ("GET", r"/containers/(?P<name>.*)/top", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/logs", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/stats", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/attach/ws", "not_in_stand_in"),
    ("GET", r"/exec/(?P<execid>.*)/json", "proxy_container"),
    ("GET", r"/networks", "get_networks"),
    ("GET", r"/networks/(?P<networkid>.*)", "get_network"),
    ("GET", r"/volumes", "not_in_stand_in"),
    ("GET", r"/volumes/(?P<volumename>.*)", "not_in_stand_in"),
    ("POST", r"/auth", "proxy_random"),
    ("POST", r"/commit", "post_commit"),
    ("POST", r"/build", "post_build"),
    ("POST", r"/images/create", "post_images_create"),
    ("POST", r"/images/load", "not_in_stand_in"),
    ("POST", r"/images/(?P<name>.*)/push", "proxy_image_push"),
    ("POST", r"/images/(?P<name>.*)/tag", "post_tag_image"),
    ("POST", r"/containers/create", "post_containers_create"),
    ("POST", r"/containers/(?P<name>.*)/kill", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/pause", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/unpause", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/rename", "post_rename_container"),
    ("POST", r"/containers/(?P<name>.*)/restart", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/start", "post_containers_start"),
    ("POST", r"/containers/(?P<name>.*)/stop", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/update", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/wait", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/resize", "proxy_container"),
    ("POST", r"/containers/(?P<name>.*)/attach", "proxy_hijack"),
    ("POST", r"/containers/(?P<name>.*)/copy", "proxy_container"),
    ("POST", r"/containers/(?P<name>.*)/exec", "post_containers_exec"),
    ("POST", r"/exec/(?P<execid>.*)/start", "post_exec_start"),
    ("POST", r"/exec/(?P<execid>.*)/resize", "proxy_container"),
    ("POST", r"/networks/create", "not_in_stand_in"),
    ("POST", r"/networks/(?P<networkid>.*)/connect", "proxy_network_connect"),
    ("POST", r"/networks/(?P<networkid>.*)/disconnect", "not_in_stand_in"),
    ("POST", r"/volumes/create", "not_in_stand_in"),
    ("PUT", r"/containers/(?P<name>.*)/archive", "proxy_container"),
    ("DELETE", r"/containers/(?P<name>.*)", "delete_containers"),
    ("DELETE", r"/images/(?P<name>.*)", "delete_images"),
    ("DELETE", r"/networks/(?P<networkid>.*)", "not_in_stand_in"),
    ("DELETE", r"/volumes/(?P<name>.*)", "not_in_stand_in"),
]
COMPILED_ROUTES = [(method, _route(pattern), handler) for method, pattern, handler in ROUTES]
