"""Images: repository and tag, the lookup, the listing filters (cluster/image.go)."""

from __future__ import annotations

import re
import typing

if typing.TYPE_CHECKING:
    from ..vendored import Filters


def parse_repository_tag(repos: str) -> tuple[str, str]:
    """cluster/image.go:21-35."""
    if "@" in repos:
        parts = repos.split("@")
        return parts[0], parts[1]
    index = repos.rfind(":")
    if index < 0:
        return repos, ""
    tag = repos[index + 1 :]
    return (repos[:index], tag) if "/" not in tag else (repos, "")


def image_matches(image: dict, id_or_name: str, match_tag: bool) -> bool:
    """cluster/image.go:38-79: ID or ID prefix (more than two characters), repo:tag, repo@digest."""
    image_id, size = str(image.get("Id") or ""), len(id_or_name)
    if image_id == id_or_name or (size > 2 and image_id.startswith(id_or_name)):
        return True
    if ":" in image_id:
        bare = image_id.split(":", 1)[1]
        if bare == id_or_name or (size > 2 and bare.startswith(id_or_name)):
            return True
    repo, tag = parse_repository_tag(id_or_name)
    for reference in [*(image.get("RepoTags") or []), *(image.get("RepoDigests") or [])]:
        image_repo, image_tag = parse_repository_tag(reference)
        if image_repo == repo and (not match_tag or image_tag == tag or tag == ""):
            return True
    return False


def image_listed(image: dict, filters: Filters, show_all: bool) -> bool:
    """cluster/image.go:92-165: tagged images (or all), labels, reference globs, dangling."""
    tags = list(image.get("RepoTags") or [])
    digests = list(image.get("RepoDigests") or [])
    if not (
        show_all
        or (tags and tags[0] != "<none>:<none>")
        or (digests and digests[0] != "<none>@<none>")
        or filters.include("dangling")
    ):
        return False
    if filters.fields and not filters.match_kv_list("label", image.get("Labels")):
        return False
    if filters.include("reference"):
        candidates = {*tags, *digests, *(parse_repository_tag(r)[0] for r in (*tags, *digests))}
        patterns = [re.escape(p).replace(r"\*", "[^/]*").replace(r"\?", "[^/]") for p in filters.get("reference")]
        if not any(re.fullmatch(p, c) for p in patterns for c in candidates):
            return False
    if filters.include("dangling"):
        first = (tags or ["<none>:<none>"])[0]
        if filters.exact_match("dangling", "true") and first != "<none>:<none>":
            return False
        if filters.exact_match("dangling", "false") and first == "<none>:<none>":
            return False
    return True
