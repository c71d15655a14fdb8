"""The Python ssl shim's modules (see shim_python.py)."""
