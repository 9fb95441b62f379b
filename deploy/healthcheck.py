"""Container health check: is the gateway's HTTPS listener answering ``/healthz``?

Run by Docker's HEALTHCHECK inside the container. It connects to the loopback address,
so it checks that the process serves, not who it claims to be: the certificate is not
verified here (the real certificate names the service, not 127.0.0.1). Exit 0 when
``/healthz`` answers 200, 1 otherwise.
"""

from __future__ import annotations

import http.client
import os
import ssl
import sys

TIMEOUT_SECONDS = 4.0


def main() -> int:
    port = int(os.environ.get("ENCLAVE_PORT", "8443"))
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # loopback liveness only; see the module docstring
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, timeout=TIMEOUT_SECONDS, context=context
    )
    try:
        connection.request("GET", "/healthz")
        status = connection.getresponse().status
    except OSError as exc:
        print(f"healthz: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
