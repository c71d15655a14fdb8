"""Helpers shared by the project's tests, one module per job:

- build: where the repository, the build tree and its programs are
- cells: one peer-vs-shim cell, the matrices (from the vocabulary), Runner
- openssl_api: scenarios every stack with the OpenSSL API runs alike
- peers: the mock peer's own tests (the peer under test, a SUT double)
- harness_files: case and stack files for the harness tests, fake programs
- recorded: recorded peer and shim output, for evaluation without processes
- front_door: `./tlsclose COMMAND` as a subprocess, and its results.json
- procfs: processes and sockets seen through /proc
- probe: black-box endpoints for `tlsclose probe`
- your_stack: the code blocks of docs/your-stack.md, stack files of one's own
- results_docs: results.json documents for the report writers' tests
- children: a child a test starts itself, killed and reaped on every path
- serve: shims and the mock peer driven in persistent mode (--serve)
- peer_http: the peer's HTTP actions against real clients and servers
- node_shim, rustls_serve: the Node and rustls shims' own drivers (their
  serve mode against a per-cell peer)

The modules import each other relatively, so the package works whatever
puts tests/ on sys.path (tests/conftest.py does for pytest).
"""
