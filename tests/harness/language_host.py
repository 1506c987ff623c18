"""Run a Pulumi program as the Python language host does, under mocks instead of an engine:
`python -m tests.harness.language_host PROGRAM`, with the stack's config in PULUMI_CONFIG and its secret
keys in PULUMI_CONFIG_SECRET_KEYS, as the CLI hands them over.

Mirrors pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec: config from those variables through
set_all_config, the program run by runpy inside run_in_stack, a RunError logged as its text alone and any
other exception logged with its traceback, exit status 1 on either. The engine prints each log entry as
`<severity>: <message>`, which the logger here does on stderr."""

from __future__ import annotations

import asyncio
import logging
import runpy
import sys
import traceback

import pulumi
import pulumi.runtime

from tests.harness import sdk_internals as sdk
from tests.harness.mocks import FabricatingMocks
from tests.harness.stacks import PROJECT


def main(program: str, stack: str) -> int:
    pulumi.runtime.set_all_config(pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env())
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # In place of configure(Settings(monitor=..., engine=...)): no engine runs here.
    pulumi.runtime.set_mocks(FabricatingMocks(), project=PROJECT, stack=stack, logger=_engine_log())
    sdk.forget_root_stack()  # run_in_stack below makes its own, as under the host
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    successful = False
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))
        successful = True
    except pulumi.RunError as error:
        pulumi.log.error(str(error))
    except Exception:
        pulumi.log.error("Program failed with an unhandled exception:")
        pulumi.log.error(traceback.format_exc())
    finally:
        loop.close()
    return 0 if successful else 1


def _engine_log() -> logging.Logger:
    logger = logging.getLogger("engine")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Diagnostic())
    logger.addHandler(handler)
    logger.propagate = False
    return logger


class _Diagnostic(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
