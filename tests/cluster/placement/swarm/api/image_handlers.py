"""The image and build routes (api/handlers.go)."""

from __future__ import annotations

import threading
import typing
from urllib.parse import quote

from ..cluster.httpclient import EngineError
from ..cluster.image import image_listed, image_matches
from ..cluster.jsonmessage import json_message
from ..golang import go_json
from ..scheduler.errors import SchedulingError
from ..scheduler.filter.expr import ExprError
from ..vendored import parse_normalized_named, version_less
from .build import OS_ERROR, build_options, parse_form
from .proxy import Proxying
from .utils import NOT_IN_STAND_IN, ApiError, bool_value, decode_auth, error_json_message, image_ref

if typing.TYPE_CHECKING:
    from ..cluster.engine import Engine


class ImageHandlers(Proxying):
    """api/handlers.go: the image and build routes."""

    def post_build(self) -> None:
        """api/handlers.go:1392-1475: the form read into build options, the build scheduled and run on one engine
        (Cluster.build_image), each engine message sent on with the engine's name as its id, and after a failure
        the error message. A scheduling refusal is a plain-text 500; once the build started the answer is 200."""
        form, error = parse_form(self.command, self.headers.get("Content-Type"), self.raw_query, self.read_body_upto)
        if error:
            raise ApiError(error, 500)
        options = build_options(form, self.headers.get("X-Registry-Config"))
        failure = {"message": ""}

        def callback(engine_name: str, message: dict, error: EngineError | None) -> None:
            message = {**message, "id": engine_name}
            if error is not None:
                failure["message"] = str(error)
                if match := OS_ERROR.search(str(error)):
                    message["status"] = (
                        f"Could not build image: {error}. Consider using --build-arg 'constraint:ostype=={match[1]}'"
                    )
            if not self.began:
                self._begin(200, [("Content-Type", "application/json")], None)
            self._write(go_json(json_message(message)))

        try:
            self.cluster.build_image(self.body_chunks(), options, callback)
        except (SchedulingError, ExprError) as refusal:
            raise ApiError(str(refusal), 500) from None
        if failure["message"]:
            self._write(error_json_message(1, failure["message"]))

    def post_commit(self) -> None:
        """api/handlers.go:1354-1390: to the container's engine, whose images are re-read after a 201."""
        _, container = self.container_from_vars((self.query.get("container") or [""])[0])
        name = (self.query.get("container") or [""])[0]
        raw_query = self.raw_query.replace(name, container.id, 1) if name else self.raw_query
        engine = container.engine

        def refresh(response) -> None:
            if response.status == 201:
                engine._quietly(engine.refresh_images)

        self.proxy(engine, raw_query=raw_query, callback=refresh)

    def post_images_create(self) -> None:
        """api/handlers.go:757-813 with cluster/swarm/cluster.go:659-701: a pull on every validated engine."""
        image = (self.query.get("fromImage") or [""])[0]
        if not image:
            raise ApiError(NOT_IN_STAND_IN.format("POST", "/images/create?fromSrc"), 501)
        image = image_ref(image, (self.query.get("tag") or [""])[0])
        auth = decode_auth(self.headers.get("X-Registry-Auth")) or {}
        self._begin(200, [("Content-Type", "application/json")], None)
        lock, outcome = threading.Lock(), {"error": "", "success": False, "other": False}

        def send(engine: Engine, message: dict, error: str = "", success: bool = False) -> None:
            message = {**message, "id": engine.name}
            status = message.get("status", "")
            message["status"] = f"Pulling {image}... : {status}" if status else f"Pulling {image}..."
            with lock:
                outcome["success"] = outcome["success"] or success
                if error:
                    outcome["error"] = error
                    outcome["other"] = outcome["other"] or "image operating system" not in error
                    message["status"] = f"Pulling {image}... : {error}"
                self._write(go_json(json_message(message)))

        def pull(engine: Engine) -> None:
            send(engine, {})
            try:
                engine.pull(image, auth, lambda message: send(engine, message))
            except EngineError as error:
                send(engine, {}, error=str(error))
                return
            send(engine, {}, success=True)

        threads = [threading.Thread(target=pull, args=(e,), daemon=True) for e in self.cluster.active_engines()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if outcome["error"] and (not outcome["success"] or outcome["other"]):
            self._write(error_json_message(1, outcome["error"]))

    def proxy_image_push(self) -> None:
        """api/handlers.go:1282-1304: to the first engine holding the image (with its tag when one is given)."""
        name, tag = self.vars["name"], (self.query.get("tag") or [""])[0]
        wanted = f"{name}:{tag}" if tag else name
        for image, engine in self.cluster.images():
            if image_matches(image, wanted, bool(tag)):
                self.proxy(engine)
                return
        raise ApiError(f"No such image: {wanted}", 404)

    def proxy_image(self) -> None:
        """api/handlers.go:1255-1264."""
        found = self.cluster.image(self.vars["name"])
        if found is None:
            raise ApiError(f"No such image: {self.vars['name']}", 404)
        self.proxy(found[1])

    def proxy_image_get(self) -> None:
        """api/handlers.go:1267-1279."""
        name = self.vars["name"]
        for image, engine in self.cluster.images():
            if image_matches(image, name, ":" in name):
                self.proxy(engine)
                return
        raise ApiError(f"No such image: {name}", 404)

    def proxy_random(self) -> None:
        """api/handlers.go:1333-1351."""
        try:
            engine = self.cluster.random_engine()
        except SchedulingError as error:
            raise ApiError(str(error), 500) from None
        self.proxy(engine)

    def post_tag_image(self) -> None:
        """api/handlers.go:1307-1330 with cluster/swarm/cluster.go:1113-1137: every engine holding the image."""
        name = self.vars["name"]
        ref = image_ref((self.query.get("repo") or [""])[0], (self.query.get("tag") or [""])[0])
        errors, found = [], False
        for image, engine in self.cluster.images():
            if not image_matches(image, name, True):
                continue
            found = True
            try:
                familiar, tag, _ = parse_normalized_named(ref)
                engine.call("POST", f"/images/{quote(name, safe=':/@')}/tag", query={"repo": familiar, "tag": tag})
                engine.refresh_images()
            except (EngineError, ValueError) as error:
                errors.append(f"{engine.name}: {error}")
        if not found:
            raise ApiError(f"No such image: {name}", 404)
        if errors:
            raise ApiError("\n".join(errors), 500)
        self.send_bytes(201, b"", None)

    def delete_images(self) -> None:
        """api/handlers.go:1024-1044 with cluster/swarm/cluster.go:491-524: every engine holding it."""
        name, force = self.vars["name"], bool_value(self.query, "force")
        out, errors = [], []
        for engine in {id(e): e for image, e in self.cluster.images() if image_matches(image, name, True)}.values():
            try:
                out += engine.remove_image(name, force)
            except EngineError as error:
                errors.append(f"{engine.name}: {error}")
        if errors:
            raise ApiError("\n".join(errors), 500)
        if not out:
            raise ApiError(f"No such image {name}", 404)
        self.send_json(200, out)

    def get_images_json(self) -> None:
        """api/handlers.go:180-269: grouped by ID with their tags merged; `node` picks engines."""
        filters = self._filters(500)
        if self.raw_query and (self.query.get("filter") or [""])[0] and version_less(self.api_version, "1.28"):
            filters.fields.setdefault("reference", {})[self.query["filter"][0]] = True
        dangling = filters.fields.get("dangling")
        if dangling is not None and not (
            filters.exact_match("dangling", "false") or filters.exact_match("dangling", "true")
        ):
            raise ApiError("Invalid filter: 'type'='dangling'", 400)
        nodes, groups = filters.get("node"), {}
        for image, engine in self.cluster.images():
            if not image_listed(image, filters, bool_value(self.query, "all")):
                continue
            if nodes and engine.name not in nodes and engine.id not in nodes:
                continue
            entry = groups.setdefault(image["Id"], {**image, "RepoTags": [], "RepoDigests": []})
            entry["RepoTags"] += image.get("RepoTags") or []
            entry["RepoDigests"] += image.get("RepoDigests") or []
        images = [
            {**i, "RepoTags": list(dict.fromkeys(i["RepoTags"])), "RepoDigests": list(dict.fromkeys(i["RepoDigests"]))}
            for i in groups.values()
        ]
        images.sort(key=lambda i: i.get("Created", 0), reverse=True)
        self.send_json(200, images)
