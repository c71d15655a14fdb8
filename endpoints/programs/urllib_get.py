"""GET a URL with Python's urllib as an application does (urlopen, then
read() the whole body) and save the body: exit 0 when urllib reported
success, 1 with the exception on standard error otherwise.

Usage: urllib_get.py URL OUTPUT-FILE. The certificate is not verified: the
endpoint table is about how the connection ends, not about trust.
"""
import ssl
import sys
import urllib.request


def main() -> int:
    url, out = sys.argv[1], sys.argv[2]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=10) as response:
            data = response.read()
    except Exception as exc:  # whatever urllib raises is its report to the application
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    with open(out, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
