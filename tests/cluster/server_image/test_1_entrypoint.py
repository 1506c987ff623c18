"""The server's entrypoint: it waits for PostgreSQL by its service name and refuses to start unconfigured."""

from __future__ import annotations

from components.master_layout import DATABASE_USER
from tests.cluster.server_contract import SERVER_XML
from tests.cluster.server_image.steps import PASSWORD, SERVER, contract_site, create_server
from tests.cluster.stand_in_services import (
    INTERNAL,
)

# -- the application server: its entrypoint -------------------------------------------------------------------------


def test_server_exits_without_postgres_credentials_and_says_so(engine):
    engine.docker("run", "--name", "server-no-credentials", SERVER, check=False)
    code, output = engine.exit_code("server-no-credentials"), engine.logs("server-no-credentials")
    engine.remove("server-no-credentials")
    # entrypoint.sh:41-48: the message, then a bare `exit` (status 0): Tomcat never starts.
    assert (code, "Postgres variables are not set. Exiting" in output) == (0, True), output
    assert "Waiting for Postgres" not in output


def test_server_waits_for_postgres_by_its_service_name(engine, postgres):
    engine.docker("network", "create", "waiting")
    engine.docker("run", "-d", "--name", "server-waiting", "--network", "waiting", "-e", f"PGUSER={DATABASE_USER}",
                  "-e", f"PGPASSWORD={PASSWORD}", SERVER)  # fmt: skip
    try:
        engine.wait_for_log("server-waiting", "[INFO]: Postgres is unavailable. Trying in 5 seconds...")
        engine.docker("network", "connect", "--alias", "postgres", "waiting", postgres)
        engine.wait_for_log("server-waiting", "[INFO]: Postgres is up and running. Starting Codenvy Tomcat...")
    finally:
        engine.remove("server-waiting")
        engine.docker("network", "disconnect", "waiting", postgres, check=False)
        engine.docker("network", "rm", "waiting", check=False)


def test_server_refuses_to_start_without_its_configuration(engine, postgres):
    credentials = ["-e", f"PGUSER={DATABASE_USER}", "-e", f"PGPASSWORD={PASSWORD}"]
    engine.docker("run", "-d", "--name", "server-unconfigured", "--network", INTERNAL, *credentials,
                  "-e", "CHE_LOCAL_CONF_DIR=/opt/codenvy-data/conf/", SERVER)  # fmt: skip
    code, output = engine.exit_code("server-unconfigured", seconds=120), engine.logs("server-unconfigured")
    engine.remove("server-unconfigured")
    assert code != 0 and "docker.client.daemon_url is not set" in output and "codenvy.admin.name is not set" in output


def test_server_refuses_to_start_without_its_datasource(engine, postgres, ca, client_cert):
    create_server(engine, "server-no-datasource", contract_site(), ca, client_cert, SERVER_XML)
    engine.docker("start", "server-no-datasource")
    code, output = engine.exit_code("server-no-datasource", seconds=120), engine.logs("server-no-datasource")
    engine.remove("server-no-datasource")
    assert code != 0 and f"{SERVER_XML} is missing: no datasource jdbc/codenvy" in output, output
