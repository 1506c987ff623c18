"""swarm's command line: the application, `manage`, their flags and help (cli/)."""
