"""moto_server with a CloudWatch protocol shim (test-only).

The current aws-sdk-cloudwatch speaks Smithy RPC v2 CBOR; moto speaks the
awsJson1.0 and Query protocols for CloudWatch and answers 404 to CBOR. This
runs moto's own WSGI app (the same one `moto_server` runs, so one port and one
state) behind a middleware that turns an RPC v2 CBOR request into the
equivalent awsJson1.0 request, and moto's JSON answer back into CBOR, using
botocore's model of CloudWatch to find the timestamp members.

Usage: python moto_shim.py PORT
"""

import io
import json
import sys
from datetime import datetime, timezone

import botocore.session
import cbor2
from botocore.parsers import create_parser
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

PREFIX = "/service/GraniteServiceVersion20100801/operation/"
MODEL = botocore.session.get_session().get_service_model("cloudwatch")
JSON_PARSER = create_parser("json")


def to_json(o):
    if isinstance(o, datetime):
        return o.timestamp()
    if isinstance(o, bytes):
        import base64

        return base64.b64encode(o).decode()
    raise TypeError(f"cannot send {type(o)} as JSON")


class CborShim:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.app(environ, start_response)
        op = path[len(PREFIX):]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        params = cbor2.loads(raw) if raw else {}
        body = json.dumps(params, default=to_json).encode()

        inner = dict(environ)
        inner["PATH_INFO"] = "/"
        inner["REQUEST_URI"] = "/"
        inner["RAW_URI"] = "/"
        inner["CONTENT_TYPE"] = "application/x-amz-json-1.0"
        inner["CONTENT_LENGTH"] = str(len(body))
        inner["HTTP_X_AMZ_TARGET"] = f"GraniteServiceVersion20100801.{op}"
        inner.pop("HTTP_SMITHY_PROTOCOL", None)
        inner["wsgi.input"] = io.BytesIO(body)

        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        chunks = self.app(inner, capture)
        try:
            out = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status = captured.get("status", "500 INTERNAL SERVER ERROR")
        code = int(status.split()[0])
        headers = [
            (k, v)
            for (k, v) in captured.get("headers", [])
            if k.lower() not in ("content-type", "content-length")
        ]
        try:
            decoded = json.loads(out) if out else {}
        except ValueError:
            # moto's HTML 500 for what it does not implement: pass it on.
            start_response(status, captured.get("headers", []))
            return [out]
        if code < 300:
            op_model = MODEL.operation_model(op)
            if op_model.output_shape is not None:
                parsed = JSON_PARSER.parse(
                    {"body": out, "headers": {}, "status_code": code},
                    op_model.output_shape,
                )
                parsed.pop("ResponseMetadata", None)
            else:
                parsed = {}
        else:
            parsed = decoded
        payload = cbor2.dumps(parsed, datetime_as_timestamp=True, timezone=timezone.utc)
        headers += [
            ("Content-Type", "application/cbor"),
            ("Content-Length", str(len(payload))),
            ("smithy-protocol", "rpc-v2-cbor"),
        ]
        start_response(status, headers)
        return [payload]


def main():
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        "127.0.0.1",
        port,
        CborShim(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
