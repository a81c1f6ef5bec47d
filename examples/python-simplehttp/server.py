#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Python's http.server with a USDT probe: simplehttp:file_transfer fires
for every file (or directory listing) sent, with the client, the path and
the size in bytes.

    python3 server.py [--bind ADDR] [--port PORT] [--directory DIR]

    # usdtkit trace -p PID --format '{client} is downloading file {path} ({size} bytes)' \\
          simplehttp:file_transfer
"""

import argparse
import http.server
import io
import os
import sys
import urllib.parse

import usdtkit

# Three lines to expose a probe: a provider, a typed probe, load.
provider = usdtkit.Provider("simplehttp")
file_transfer = provider.add_probe("file_transfer", client=str, path=str, size=usdtkit.INT64)
provider.load()


def body_size(source):
    """Bytes left to send from SOURCE: an open file, or the io.BytesIO of a
    directory listing (which has a fileno() that raises)."""
    try:
        return os.fstat(source.fileno()).st_size - source.tell()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        pos = source.tell()
        end = source.seek(0, io.SEEK_END)
        source.seek(pos)
        return end - pos


class Handler(http.server.SimpleHTTPRequestHandler):
    def copyfile(self, source, outputfile):
        # do_GET calls this with the open file or a directory listing.
        if file_transfer.enabled:
            host, port = self.client_address[:2]
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            file_transfer.fire("%s:%d" % (host, port), path, body_size(source))
        super().copyfile(source, outputfile)

    def log_message(self, format, *args):
        pass  # the probe is the log


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    ap.add_argument("--directory", default=os.getcwd(), help="directory to serve (default: cwd)")
    args = ap.parse_args()

    def handler(*a, **kw):
        return Handler(*a, directory=args.directory, **kw)

    with http.server.ThreadingHTTPServer((args.bind, args.port), handler) as httpd:
        host, port = httpd.server_address[:2]
        print("serving %s on http://%s:%d/ (pid %d)" % (args.directory, host, port, os.getpid()), flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
    provider.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
