"""The release the stand-in answers as (docker/swarm version/version.go and its Dockerfile)."""

from __future__ import annotations

VERSION = "1.2.8"  # version/version.go:5
GITCOMMIT = "48d86b1"  # Dockerfile:13 stamps `git rev-parse --short HEAD`; tag v1.2.8 is 48d86b12
GO_VERSION = "go1.7.1"  # Dockerfile:1 builds on golang:1.7.1-alpine
