"""Test harness: the program evaluated under Pulumi mocks, what it registered, and readers for what it
hands hosts. Tests import from here; each module below does one job."""

from tests.harness.evaluation import evaluate, evaluate_function, primary_as_shipped, run_under_mocks
from tests.harness.host_inputs import (
    container_env,
    container_file,
    properties_of,
    rerender,
    script_of,
    script_parameters,
    template_of,
)
from tests.harness.mocks import FabricatingMocks, fake_image_id
from tests.harness.monitor import RecordingMonitor, plain
from tests.harness.records import Evaluation, Options, Registration
from tests.harness.stacks import (
    PROJECT,
    PROJECT_DIR,
    STACKS,
    full_stack_name,
    project_defaults,
    pulumi_values,
    site_config,
    stack_file_config,
)

__all__ = [
    "PROJECT",
    "PROJECT_DIR",
    "STACKS",
    "Evaluation",
    "FabricatingMocks",
    "Options",
    "RecordingMonitor",
    "Registration",
    "container_env",
    "container_file",
    "evaluate",
    "evaluate_function",
    "fake_image_id",
    "full_stack_name",
    "plain",
    "primary_as_shipped",
    "project_defaults",
    "properties_of",
    "pulumi_values",
    "rerender",
    "run_under_mocks",
    "script_of",
    "script_parameters",
    "site_config",
    "stack_file_config",
    "template_of",
]
