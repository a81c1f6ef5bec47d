#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""A bounded OTLP/HTTP JSON receiver for the exporter tests.

Listens on 127.0.0.1 (a free port, written to --port-file), answers the
first --fail-first requests with 503, and for the others decodes the body.
With --proto-dir the body is parsed with protobuf's json_format into the
message classes protoc generates from opentelemetry-proto, so an unknown or
misnamed field, a wrong type or a bad id fails the request (400) and the
summary; without it, with the json module only. One line per record is
written to --out. Stops by itself after --max-seconds.
"""
import argparse
import base64
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading


def load_schema(proto_dir, work):
    protos = [
        "opentelemetry/proto/common/v1/common.proto",
        "opentelemetry/proto/resource/v1/resource.proto",
        "opentelemetry/proto/logs/v1/logs.proto",
        "opentelemetry/proto/trace/v1/trace.proto",
        "opentelemetry/proto/collector/logs/v1/logs_service.proto",
        "opentelemetry/proto/collector/trace/v1/trace_service.proto",
    ]
    subprocess.run(["protoc", "-I", proto_dir, "--python_out", work] + protos, check=True)
    sys.path.insert(0, work)
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    from google.protobuf import json_format

    def parse(path, body):
        cls = (logs_service_pb2.ExportLogsServiceRequest if path.endswith("/v1/logs")
               else trace_service_pb2.ExportTraceServiceRequest)
        msg = json_format.Parse(body, cls())
        # back to the canonical JSON mapping, ids as base64 of the bytes
        return json_format.MessageToDict(msg)
    return parse


def anyvalue(v):
    for k in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if k in v:
            return "%s:%s" % (k[:-5], v[k])
    return "empty:"


def attrs(lst):
    return " ".join("%s=%s" % (a["key"], anyvalue(a.get("value", {}))) for a in lst)


def summarize(path, doc, schema):
    lines = []
    if path.endswith("/v1/logs"):
        for rl in doc.get("resourceLogs", []):
            res = attrs(rl.get("resource", {}).get("attributes", []))
            for sl in rl.get("scopeLogs", []):
                scope = sl.get("scope", {}).get("name", "")
                for r in sl.get("logRecords", []):
                    lines.append("log scope=%s time=%s body=%s | %s | %s" % (
                        scope, r.get("timeUnixNano"), anyvalue(r.get("body", {})), res,
                        attrs(r.get("attributes", []))))
    else:
        for rs in doc.get("resourceSpans", []):
            res = attrs(rs.get("resource", {}).get("attributes", []))
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    tid, sid = s.get("traceId", ""), s.get("spanId", "")
                    if schema:  # the schema decoded hex into bytes; MessageToDict gives base64
                        tid = base64.b64decode(tid).hex()
                        sid = base64.b64decode(sid).hex()
                    lines.append("span name=%s start=%s end=%s trace=%s span=%s kind=%s | %s | %s" % (
                        s.get("name"), s.get("startTimeUnixNano"), s.get("endTimeUnixNano"),
                        tid, sid, s.get("kind"), res, attrs(s.get("attributes", []))))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--proto-dir")
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=30)
    ap.add_argument("--reject", type=int, default=0,
                    help="answer 200 with a partial success rejecting this many records")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="otlp-schema-")
    parse = load_schema(a.proto_dir, work) if a.proto_dir else (
        lambda path, body: json.loads(body))
    state = {"requests": 0}
    lock = threading.Lock()
    out = open(a.out, "w", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, code, body=b"{}"):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            with lock:
                state["requests"] += 1
                nreq = state["requests"]
            if self.path not in ("/v1/logs", "/v1/traces", "/base/v1/logs", "/base/v1/traces"):
                out.write("error path %s\n" % self.path)
                return self.reply(404)
            if self.headers.get("Content-Type") != "application/json":
                out.write("error content-type %s\n" % self.headers.get("Content-Type"))
                return self.reply(415)
            if nreq <= a.fail_first:
                out.write("request %s 503\n" % self.path)
                return self.reply(503)
            try:
                doc = parse(self.path, body)
            except Exception as e:  # the schema rejected it
                out.write("error decode %s: %s\n" % (self.path, str(e).replace("\n", " ")))
                return self.reply(400)
            lines = summarize(self.path, doc, a.proto_dir is not None)
            out.write("request %s 200 records=%d\n" % (self.path, len(lines)))
            for line in lines:
                out.write(line + "\n")
            if a.reject:
                key = "rejectedLogRecords" if self.path.endswith("/v1/logs") else "rejectedSpans"
                body = json.dumps({"partialSuccess": {key: str(a.reject),
                                                      "errorMessage": "test"}})
                return self.reply(200, body.encode())
            self.reply(200)

    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    srv.timeout = 0.2
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    timer = threading.Timer(a.max_seconds, srv.shutdown)
    timer.daemon = True
    timer.start()
    srv.serve_forever(poll_interval=0.1)
    out.close()


if __name__ == "__main__":
    main()
