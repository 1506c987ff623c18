"""Node discovery: file:// only (vendor/github.com/docker/docker/pkg/discovery)."""
