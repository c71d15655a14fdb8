"""Fixtures for the Python ssl shim's tests (stacks/python-ssl). The shim is
a script of the source tree, run as its stack files run it (python-ssl.toml
strict, python-ssl-ragged.toml with Python's defaults); a missing peer or
credentials fail the tests.

py_cell(role, tls, io, sut_script, peer_script, connections=1,
deadline_ms=8000, transport="fd", sut_args=(), peer_args=(), ragged=False)
-> Cell; role is the SUT's.
"""
from __future__ import annotations

import pytest

from support.cells import Runner

strict_runner = Runner.fixture(None, stack_file="stacks/python-ssl/python-ssl.toml")
ragged_runner = Runner.fixture(None, stack_file="stacks/python-ssl/python-ssl-ragged.toml")


@pytest.fixture
def py_cell(strict_runner, ragged_runner):
    def run(*args, ragged: bool = False, **kwargs):
        return (ragged_runner if ragged else strict_runner).cell(*args, **kwargs)
    return run
