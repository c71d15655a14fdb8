"""Helpers shared by the project's tests, one module per job:

- build: where the repository, the build tree and its programs are
- cells: one peer-vs-shim cell, the matrices (from the vocabulary), Runner
- openssl_api: scenarios every stack with the OpenSSL API runs alike
- peers: the mock peer's own tests (the peer under test, a SUT double)

The modules import each other relatively, so the package works whatever
puts tests/ on sys.path (tests/conftest.py does for pytest).
"""
