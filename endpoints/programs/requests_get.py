"""GET a URL with python3-requests as an application does (requests.get,
then .content) and save the body: exit 0 when requests reported success, 1
with the exception on standard error otherwise.

Usage: requests_get.py URL OUTPUT-FILE. The certificate is not verified.
"""
import sys
import warnings

import requests


def main() -> int:
    url, out = sys.argv[1], sys.argv[2]
    warnings.simplefilter("ignore")     # the unverified-certificate warning
    try:
        data = requests.get(url, verify=False, timeout=10).content
    except Exception as exc:  # whatever requests raises is its report to the application
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    with open(out, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
