"""A container's configuration as swarm keeps it, scheduling expressions in labels (cluster/config.go)."""

from __future__ import annotations

import json
import typing

from ..golang import go_div

SWARM_LABEL = "com.docker.swarm"  # cluster/config.go:14


def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text) if text is not None else []
    except ValueError:
        return []
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _json_label(values: list[str]) -> str:
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


class ContainerConfig:
    """cluster/config.go: a container's Config with its HostConfig and NetworkingConfig, the scheduling
    expressions kept as JSON arrays in com.docker.swarm.* labels."""

    EXPRESSION_KEYS: typing.ClassVar = {
        "affinity": "affinities",
        "constraint": "constraints",
        "whitelist": "whitelists",
    }
    EXPRESSION_KEYS |= {"reschedule": "reschedule-policies"}

    def __init__(self, config: dict, host_config: dict, networking_config: dict) -> None:
        self.config, self.host_config, self.networking_config = config, host_config, networking_config

    @classmethod
    def build(cls, config: dict, host_config: dict, networking_config: dict) -> ContainerConfig:
        """config.go:63-144: labels first, then `affinity:`, `constraint:`, `reschedule:`, `whitelist:` env entries
        (split at the first colon), which leave Env."""
        config = dict(config)
        labels = dict(config.get("Labels") or {})
        found = {key: _json_list(labels.get(f"{SWARM_LABEL}.{key}")) for key in cls.EXPRESSION_KEYS.values()}
        env = []
        for entry in config.get("Env") or []:
            key, colon, value = str(entry).partition(":")
            if colon and key in cls.EXPRESSION_KEYS:
                found[cls.EXPRESSION_KEYS[key]].append(value)
            else:
                env.append(entry)
        config["Env"] = env or None
        for key, values in found.items():
            if values:
                labels[f"{SWARM_LABEL}.{key}"] = _json_label(values)
        config["Labels"] = labels
        return cls(config, dict(host_config or {}), dict(networking_config or {}))

    @classmethod
    def from_inspect(cls, info: dict, engine_cpus: int) -> ContainerConfig:
        """cluster/engine.go:876-885: from an inspect, CpuShares read back as a number of CPUs."""
        networks = (info.get("NetworkSettings") or {}).get("Networks")
        built = cls.build(info.get("Config") or {}, info.get("HostConfig") or {}, {"EndpointsConfig": networks})
        built.host_config["CpuShares"] = go_div(built.cpu_shares * engine_cpus, 1024)
        return built

    @property
    def labels(self) -> dict:
        return self.config.setdefault("Labels", {})

    @property
    def image(self) -> str:
        return str(self.config.get("Image") or "")

    @property
    def memory(self) -> int:
        return int(self.host_config.get("Memory") or 0)

    @property
    def cpu_shares(self) -> int:
        return int(self.host_config.get("CpuShares") or 0)

    @property
    def network_mode(self) -> str:
        return str(self.host_config.get("NetworkMode") or "")

    def swarm_id(self) -> str:  # config.go:156-165
        return str(self.labels.get(f"{SWARM_LABEL}.id", ""))

    def set_swarm_id(self, swarm_id: str) -> None:
        self.labels[f"{SWARM_LABEL}.id"] = swarm_id

    def expressions(self, key: str) -> list[str]:  # config.go:146-154
        return _json_list(self.labels.get(f"{SWARM_LABEL}.{key}"))

    def add_expression(self, key: str, expression: str) -> None:  # config.go:210-248
        self.labels[f"{SWARM_LABEL}.{key}"] = _json_label([*self.expressions(key), expression])

    def remove_expression(self, key: str, expression: str) -> None:  # config.go:222-236
        self.labels[f"{SWARM_LABEL}.{key}"] = _json_label([e for e in self.expressions(key) if e != expression])

    def have_node_constraint(self) -> bool:  # config.go:251-260
        return any(c.startswith("node==") and not c.startswith("node==~") for c in self.expressions("constraints"))

    def validate(self) -> None:  # config.go:273-291
        policies = self.expressions("reschedule-policies")
        if len(policies) > 1:
            raise ValueError("too many reschedule policies")
        if policies and policies[0] not in ("off", "on-node-failure"):
            raise ValueError(f"invalid reschedule policy: {policies[0]}")

    def engine_body(self, engine_cpus: int) -> dict:
        """What goes to the engine (cluster/engine.go:1104-1111): the Config's fields, HostConfig with CpuShares
        turned from CPUs into real shares, NetworkingConfig."""
        host_config = dict(self.host_config)
        host_config["CpuShares"] = int(-(-self.cpu_shares * 1024 // engine_cpus)) if engine_cpus else 0
        return {**self.config, "HostConfig": host_config, "NetworkingConfig": self.networking_config}
