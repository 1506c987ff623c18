"""How the program's Commands call the site's Resource API, and the admin password that lets them."""

from __future__ import annotations

ADMIN = {"codenvy-infra:adminPassword": "s3cret"}


# How the program's local Commands call the Resource API client.
RESOURCE_API = ["python3", "components/resource_api.py"]
