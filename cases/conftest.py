"""`pytest cases/ --stack openssl` runs the conformance matrix, one test item
per cell (harness/pytest_plugin.py). This file only loads that plugin, once
even when `-p harness.commands.pytest_plugin` loaded it already."""
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def pytest_addoption(parser, pluginmanager):
    if not pluginmanager.has_plugin("harness.commands.pytest_plugin"):
        pluginmanager.import_plugin("harness.commands.pytest_plugin")
