"""The Docker API swarm serves: routes, handlers, proxying, listeners (api/)."""
