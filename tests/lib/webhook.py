#!/usr/bin/python3
"""webhook.py PORT LOG [STATUS]: a webhook receiver for the alert tests.

Listens on 127.0.0.1:PORT (0: a free port, printed on the first line of
LOG.port) and appends each POST to LOG as one JSON line: {"path", "headers",
"body"} (the body parsed as JSON).  Answers every request with STATUS
(default 200), so a test can make it refuse deliveries; runs until killed.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, log = int(sys.argv[1]), sys.argv[2]
status = int(sys.argv[3]) if len(sys.argv) > 3 else 200


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path, "status": status,
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", port), Handler)
with open(log + ".port", "w") as f:
    f.write("%d\n" % server.server_address[1])
server.serve_forever()
