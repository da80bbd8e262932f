"""`%load_ext clustercraft` in a real IPython kernel."""

import pytest
from jupyter_client.manager import start_new_kernel

from clustercraft.tests.kernels import shutdown_kernel


@pytest.fixture(scope="module")
def kernel_client():
    manager, client = start_new_kernel(kernel_name="python3")
    yield client
    shutdown_kernel(manager, client)


def run(client, code):
    reply = client.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
    return reply["content"]


def test_load_ext_in_a_real_kernel(kernel_client):
    assert run(kernel_client, "%load_ext clustercraft")["status"] == "ok"
    reply = run(kernel_client, "import clustercraft; assert clustercraft.__version__")
    assert reply["status"] == "ok", reply
