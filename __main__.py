"""codenvy-infra: stack configuration → one Site → the outputs users and the DR stack read."""

import pulumi

from components.site import Site
from components.stack_config import read_stack_config

config = read_stack_config()
site = Site(config.site_name, config)
for key, value in site.exports.items():
    pulumi.export(key, value)
