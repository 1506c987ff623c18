"""`swarm manage`: its checks in cli/manage.go's order, the TLS configuration, then serving until SIGTERM."""

from __future__ import annotations

import signal
import ssl
import threading
import typing
from dataclasses import dataclass

from ..api.handlers import ApiHandler
from ..api.server import listen
from ..cluster.options import cluster_options
from ..cluster.swarm.cluster import Cluster
from ..discovery.backends import discovery_path
from ..golang import go_atoi, go_parse_duration, go_quote, open_error, split_host_port
from ..logrus import FatalError, log
from ..scheduler.filter.filter import FILTERS
from ..scheduler.scheduler import Scheduler
from ..scheduler.strategy import STRATEGIES

if typing.TYPE_CHECKING:
    from .flags import Flags


@dataclass
class TlsConfig:
    """cli/manage.go:70-98: one configuration for both sides, as two Python contexts made from the same files."""

    server: ssl.SSLContext
    client: ssl.SSLContext


@dataclass
class Settings:
    hosts: list[str]
    discovery_path: str
    heartbeat: float
    strategy: str
    filters: list[str]
    refresh_min: float
    refresh_max: float
    failure_retry: int
    overcommit: float = 0.05  # cluster/swarm/cluster.go:88
    create_retry: int = 0  # cluster/swarm/cluster.go:90
    tls: TlsConfig | None = None
    debug: bool = False
    cors: bool = False
    refresh_on_node_filter: bool = False
    container_name_refresh_filter: str = ""


def load_tls_config(ca: str, cert: str, key: str, verify: bool) -> TlsConfig:
    """cli/manage.go:70-98: the key pair is this manager's certificate and its client certificate towards every
    engine; with verify, clients must present a certificate from the CA and engines are checked against it."""
    server, client = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for context in (server, client):
        try:
            context.load_cert_chain(cert, key)
        except OSError as error:
            reason = open_error(error, cert) if not isinstance(error, ssl.SSLError) else str(error)
            raise FatalError(f"Couldn't load X509 key pair ({cert}, {key}): {reason}. Key encrypted?") from None
    server.set_alpn_protocols(["http/1.1"])  # api/server.go:67
    if verify:
        try:
            with open(ca, "rb") as handle:
                pem = handle.read().decode("ascii", "replace")
        except OSError as error:
            raise FatalError(f"Couldn't read CA certificate: {open_error(error, ca)}") from None
        # x509.CertPool.AppendCertsFromPEM ignores what it cannot read: a CA file without a certificate trusts nobody.
        if "-----BEGIN CERTIFICATE-----" in pem:
            for context in (server, client):
                context.load_verify_locations(cadata=pem)
        server.verify_mode = ssl.CERT_REQUIRED  # RequireAndVerifyClientCert, manage.go:90
    else:
        client.check_hostname = False  # InsecureSkipVerify, manage.go:92-95
        client.verify_mode = ssl.CERT_NONE
    return TlsConfig(server, client)


def manage_settings(flags: Flags, environ: dict[str, str], app_name: str = "swarm") -> Settings:
    """cli/manage.go:216-343, in its order of checks; every refusal is a FatalError with swarm's text."""
    value = flags.values
    tls = None
    if value["tls"] or value["tlsverify"]:  # manage.go:222-244
        if not flags.is_set("tlscert") or not flags.is_set("tlskey"):
            raise FatalError("--tlscert and --tlskey must be provided when using --tls")
        if value["tlsverify"] and not flags.is_set("tlscacert"):
            raise FatalError("--tlscacert must be provided when using --tlsverify")
        tls = load_tls_config(value["tlscacert"], value["tlscert"], value["tlskey"], bool(value["tlsverify"]))
    elif flags.is_set("tlscert", "tlskey", "tlscacert"):
        raise FatalError("--tlscert, --tlskey and --tlscacert require the use of either --tls or --tlsverify")

    def duration(name: str) -> float:  # urfave/cli context.go lookupDuration: a bad value reads as 0
        try:
            return go_parse_duration(str(value[name]))
        except ValueError:
            return 0.0

    refresh_min, refresh_max = duration("engine-refresh-min-interval"), duration("engine-refresh-max-interval")
    if refresh_min <= 0:  # manage.go:248-253
        raise FatalError("min refresh interval should be a positive number")
    if refresh_max < refresh_min:
        raise FatalError("max refresh interval cannot be less than min refresh interval")
    if value["engine-refresh-retry"] != 3:  # manage.go:255-258
        raise FatalError("--engine-refresh-retry is deprecated. Use --engine-failure-retry")
    if value["engine-failure-retry"] <= 0:  # manage.go:259-262
        raise FatalError("invalid failure retry count")
    uri = flags.args[0] if len(flags.args) == 1 else environ.get("SWARM_DISCOVERY", "")  # cli/flags.go:22-27
    if not uri:
        raise FatalError(f"discovery required to manage a cluster. See '{app_name} manage --help'.")
    try:  # manage.go:101-108
        heartbeat = go_parse_duration(str(value["heartbeat"]))
    except ValueError as error:
        raise FatalError(f"invalid --heartbeat: {error}") from None
    if heartbeat < 1:
        raise FatalError("--heartbeat should be at least one second")
    if any("=" not in option for option in value["discovery-opt"]):  # manage.go:119-128
        raise FatalError("--discovery-opt must contain key=value strings")
    path = discovery_path(uri)
    strategy = "binpack" if value["strategy"] == "binpacking" else value["strategy"]  # strategy.go:46-59
    if strategy not in STRATEGIES:
        raise FatalError("strategy not supported")
    names = list(value["filter"])
    if flags.is_set("filter", "f"):  # manage.go:279-283: given filters replace the defaults
        names = names[len(FILTERS) :]
    if any(name not in FILTERS for name in names):  # scheduler/filter/filter.go:42-60
        raise FatalError("filter not supported")
    driver = value["cluster-driver"]  # manage.go:291-299
    if driver == "mesos-experimental":
        raise FatalError("the mesos-experimental cluster driver is not implemented by this placement stand-in")
    if driver != "swarm":
        raise FatalError(f"unsupported cluster {go_quote(driver)}")
    overcommit, create_retry = cluster_options(list(value["cluster-opt"]))
    hosts = list(value["host"])
    if flags.is_set("host", "H"):  # manage.go:305-308: given hosts replace the default (or $SWARM_HOST's first)
        hosts = hosts[1:]
    if value["replication"]:  # manage.go:314-335; leader election needs a key-value store
        address = value["advertise"]
        if not address:
            raise FatalError("--advertise address must be provided when using --leader-election")
        try:  # cli/join.go:14-22
            port = go_atoi(split_host_port(address)[1])
        except ValueError:
            port = 0
        if not 0 < port <= 65535:
            raise FatalError("--advertise should be of the form ip:port or hostname:port")
        try:
            ttl = go_parse_duration(str(value["replication-ttl"]))
        except ValueError as error:
            raise FatalError(f"invalid --replication-ttl: {error}") from None
        if ttl <= 0:
            raise FatalError("--replication-ttl should be a positive number")
        raise FatalError("Leader election is only supported with consul, etcd and zookeeper discovery.")
    return Settings(
        hosts=hosts,
        discovery_path=path,
        heartbeat=heartbeat,
        strategy=strategy,
        filters=names,
        refresh_min=refresh_min,
        refresh_max=refresh_max,
        failure_retry=int(value["engine-failure-retry"]),
        overcommit=overcommit,
        create_retry=create_retry,
        tls=tls,
        cors=bool(value["api-enable-cors"]),
        refresh_on_node_filter=bool(value["refresh-on-node-filter"]),
        container_name_refresh_filter=str(value["container-name-refresh-filter"]),
    )


def serve(settings: Settings) -> int:
    """cli/manage.go:289-342: the cluster watches discovery, then every host listens until SIGTERM."""
    stop = threading.Event()
    cluster = Cluster(Scheduler(settings.strategy, settings.filters), settings)
    handler = type("Handler", (ApiHandler,), {"cluster": cluster})
    servers = [listen(host, handler, settings.tls.server if settings.tls else None) for host in settings.hosts]
    cluster.start(stop)
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def shutdown(signum, _frame) -> None:
        log("info", f"signal {signal.Signals(signum).name}: stopping")
        stop.set()

    signal.signal(signal.SIGTERM, shutdown)  # as PID 1 the process would ignore SIGTERM without a handler
    signal.signal(signal.SIGINT, shutdown)
    stop.wait()
    for server in servers:
        server.server_close()
    return 0
