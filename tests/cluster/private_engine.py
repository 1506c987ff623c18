"""A dockerd of the image tests' own, in a network namespace of its own (its bridges never touch the simulated
cluster's addresses), and what the tests need around it: files uploaded as the provider uploads them, calls made
from inside the namespace, and a certificate authority of their own."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts.sim.waiting import WaitTimeoutError, wait_until


@dataclass(frozen=True)
class Engine:
    """A dockerd of our own: its socket, the namespace its containers are reachable from, and its state folder."""

    host: str
    netns: str
    root: Path

    @property
    def socket_path(self) -> str:
        return self.host.removeprefix("unix://")

    def docker(self, *args: str, check: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(["docker", "-H", self.host, *args], input=stdin, capture_output=True, timeout=180)
        result.stdout, result.stderr = result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def inside(self, *argv: str, env: dict[str, str] | None = None, timeout: int = 60) -> subprocess.CompletedProcess:
        """A command on this machine but in the engine's network namespace, where container addresses route."""
        return subprocess.run(
            ["nsenter", f"--net=/var/run/netns/{self.netns}", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    def address(self, container: str, network: str = "bridge") -> str:
        template = f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}'
        return self.docker("inspect", "-f", template, container).stdout.strip()

    def inspect(self, name: str) -> dict:
        import json

        return json.loads(self.docker("inspect", name).stdout)[0]

    def logs(self, container: str) -> str:
        result = self.docker("logs", container, check=False)
        return result.stdout + result.stderr

    def wait_for(self, container: str, *probe: str, seconds: int = 60) -> None:
        try:
            wait_until(
                f"{container}: {' '.join(probe)}",
                lambda: self.docker("exec", container, *probe, check=False).returncode == 0,
                timeout=seconds,
            )
        except WaitTimeoutError as timeout:
            raise WaitTimeoutError(f"{timeout}\n{self.logs(container)}") from None

    def wait_for_log(self, container: str, text: str, seconds: int = 60) -> None:
        try:
            wait_until(f"{container} saying {text!r}", lambda: text in self.logs(container), timeout=seconds)
        except WaitTimeoutError as timeout:
            raise WaitTimeoutError(f"{timeout}\n{self.logs(container)[-3000:]}") from None

    def exit_code(self, container: str, seconds: int = 60) -> int:
        """The container's exit status once it has stopped."""
        state = wait_until(
            f"{container} to exit",
            lambda: (s := self.inspect(container)["State"]) and s["Status"] == "exited" and s,
            timeout=seconds,
        )
        return int(state["ExitCode"])

    def upload(self, container: str, path: str, content: str | bytes, mode: int = 0o644) -> str:
        """A file owned by root, as the docker provider's uploads are."""
        data = content.encode() if isinstance(content, str) else content
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode = len(data), mode
            archive.addfile(info, io.BytesIO(data))
        self.docker("cp", "-", f"{container}:/", stdin=buffer.getvalue())
        return path

    def remove(self, *containers: str) -> None:
        self.docker("rm", "-f", "-v", *containers, check=False)


@contextmanager
def private_engine(root: Path, name: str) -> Iterator[Engine]:
    """A dockerd in a new network namespace `name`, stopped and its namespace and state removed afterwards."""
    subprocess.run(["ip", "netns", "add", name], check=True)
    daemon = None
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        sock = f"unix://{root}/sock"
        daemon = subprocess.Popen(
            ["nsenter", f"--net=/var/run/netns/{name}", "dockerd", "--data-root", f"{root}/data",
             "--exec-root", f"{root}/exec", "--pidfile", f"{root}/pid", "-H", sock],
            stdout=(root / "dockerd.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        engine = Engine(sock, name, root)
        try:
            wait_until("dockerd answering", lambda: engine.docker("version", check=False).returncode == 0, timeout=60)
        except WaitTimeoutError as timeout:
            raise WaitTimeoutError(f"{timeout}:\n{(root / 'dockerd.log').read_text()[-2000:]}") from None
        yield engine
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=60)
        subprocess.run(["ip", "netns", "del", name], check=False)
        subprocess.run(["rm", "-rf", "--one-file-system", str(root / "data"), str(root / "exec")], check=False)


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def pem(self) -> tuple[str, str]:
        return self.cert.read_text(), self.key.read_text()


class CertificateAuthority:
    """A CA made with openssl, and certificates it signs (server or client use, with DNS and IP names)."""

    def __init__(self, directory: Path, name: str = "test-ca") -> None:
        if shutil.which("openssl") is None:
            raise RuntimeError("openssl is needed to make certificates")
        self.directory = directory
        self.cert, self.key = directory / "ca.pem", directory / "ca-key.pem"
        self._openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                      "-keyout", self.key, "-out", self.cert)  # fmt: skip

    def _openssl(self, *args) -> None:
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)

    def issue(
        self, name: str, *, dns: tuple[str, ...] = (), ips: tuple[str, ...] = (), usage: str = "server"
    ) -> Certificate:
        cert, key, request = (self.directory / f"{name}{suffix}" for suffix in (".pem", "-key.pem", ".csr"))
        extensions = self.directory / f"{name}.ext"
        names = [f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips]
        purpose = {"server": "serverAuth", "client": "clientAuth", "both": "serverAuth,clientAuth"}[usage]
        extensions.write_text(
            (f"subjectAltName={','.join(names)}\n" if names else "") + f"extendedKeyUsage={purpose}\n"
        )
        self._openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", key, "-out", request)
        self._openssl("x509", "-req", "-in", request, "-CA", self.cert, "-CAkey", self.key, "-CAcreateserial",
                      "-days", "2", "-extfile", extensions, "-out", cert)  # fmt: skip
        return Certificate(cert, key)

    def self_signed(self, name: str) -> Certificate:
        """A certificate no CA of ours signed."""
        cert, key = self.directory / f"{name}-self.pem", self.directory / f"{name}-self-key.pem"
        self._openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
                      "-addext", f"subjectAltName=DNS:{name}", "-keyout", key, "-out", cert)  # fmt: skip
        return Certificate(cert, key)


def have_debootstrap() -> bool:
    return shutil.which("debootstrap") is not None or Path("/usr/sbin/debootstrap").exists()
