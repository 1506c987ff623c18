"""Stand-in for the placement manager, standalone Docker Swarm 1.2.8 (`swarm manage`), in the cluster lane.

Upstream Codenvy runs docker/swarm v1.2.8 as codenvy/swarm:<version> (ENTRYPOINT ["/swarm"]); the Codenvy server
uses it as its Docker API endpoint. This package follows swarm's source at tag v1.2.8, its modules laid out as
swarm's own files are (cli/, discovery/, scheduler/, cluster/, api/); each rule cites the file and lines it mirrors
(docker/swarm, read with `git show v1.2.8:<path>`; vendored packages under vendor/). Python 3.11 standard library
only: the image runs it as /swarm (tests/cluster/image_flavours.py), `python3 -m` on the package runs it here.

What it does: `swarm manage [flags] <discovery>` with swarm's flags and refusals; file:// discovery only (other
backends are refused with a message); engines validated, refreshed and health-counted as swarm does; the
scheduler's filters and strategies; the API routes the site uses (containers, exec, images, builds, networks,
info); builds scheduled as containers are and run on the chosen engine. Routes swarm serves that the site never
calls (events, load, volumes, network create/remove, image import) answer 501 naming the stand-in. No rescheduling
watchdog (cluster/watchdog.go): it only acts on containers that opt in with a reschedule policy. Logs go to stdout
in logrus' text format; SIGTERM exits 0.

The names below are what the stand-in's tests reach for.
"""

from urllib.parse import urlencode

from .api.build import build_options, parse_form
from .api.container_handlers import create_config
from .api.handlers import ApiHandler
from .api.server import listen
from .cli.cli import main
from .cli.flags import MANAGE_FLAGS, UsageError, command_args, parse_flags
from .cli.manage import Settings, manage_settings
from .cluster.config import ContainerConfig
from .cluster.container import Container
from .cluster.engine import Engine
from .cluster.engine_cache import EngineOpts, client_version_for
from .cluster.httpclient import EngineError
from .cluster.image_build import image_build_query, registry_config_header
from .cluster.jsonmessage import decode_json_message, json_message
from .cluster.network import Network, find_network
from .cluster.swarm.cluster import Cluster, build_config, engine_rows
from .discovery.file import DiscoveryError, FileDiscovery, create_entries, generate, parse_file_content
from .golang import GoPanicError
from .logrus import FatalError
from .scheduler.errors import SchedulingError
from .scheduler.filter.affinity import filter_affinity
from .scheduler.filter.constraint import filter_constraint
from .scheduler.filter.expr import ExprError, parse_exprs
from .scheduler.filter.filter import FILTERS
from .scheduler.filter.port import filter_port
from .scheduler.node import Node
from .scheduler.scheduler import Scheduler
from .scheduler.strategy import rank_and_sort
from .vendored import bytes_size

__all__ = [
    "FILTERS", "MANAGE_FLAGS", "ApiHandler", "Cluster", "Container", "ContainerConfig", "DiscoveryError", "Engine",
    "EngineError", "EngineOpts", "ExprError", "FatalError", "FileDiscovery", "GoPanicError", "Network", "Node",
    "Scheduler", "SchedulingError", "Settings", "UsageError", "build_config", "build_options", "bytes_size",
    "client_version_for", "command_args", "create_config", "create_entries", "decode_json_message", "engine_rows",
    "filter_affinity", "filter_constraint", "filter_port", "find_network", "generate", "image_build_query",
    "json_message", "listen", "main", "manage_settings", "parse_exprs", "parse_file_content", "parse_flags",
    "parse_form", "rank_and_sort", "registry_config_header", "urlencode",
]  # fmt: skip
