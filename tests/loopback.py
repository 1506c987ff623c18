"""Test helpers that run real local processes: a throwaway HTTP server on loopback, and bash reading a
rendered script's parameters back."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` on a free loopback port for the block; yields the base URL of its API (`…/api`)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/api"
    finally:
        httpd.shutdown()


def script_parameters(script: str) -> dict[str, str]:
    """The values a rendered script assigns to its declared parameters, as bash sees them."""
    head, _, declared = script.partition("# params:")
    names = declared.splitlines()[0].split()
    probe = head + "".join(f'printf "%s\\0" "${name}"\n' for name in names)
    printed = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout
    return dict(zip(names, printed.split("\0")[:-1], strict=True))
