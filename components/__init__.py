"""ComponentResources, config models and rendered files of the codenvy-infra program."""
