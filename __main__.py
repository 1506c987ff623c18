"""codenvy-infra: stack configuration → gates → one Site → the outputs users and the DR stack read."""

import pulumi

from components.config_loader import read_stack_config
from components.gc_tuning import tune_garbage_collector
from components.site import Site, SiteArgs

tune_garbage_collector()
deployment = read_stack_config()
site = Site(deployment.site.site_name, SiteArgs(deployment=deployment))
for key, value in site.exports.items():
    pulumi.export(key, value)
