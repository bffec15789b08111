"""moto_server with a CloudWatch protocol shim (test-only).

The current aws-sdk-cloudwatch speaks Smithy RPC v2 CBOR; moto speaks the
awsJson1.0 and Query protocols for CloudWatch and answers 404 to CBOR. This
runs moto's own WSGI app (the same one `moto_server` runs, so one port and one
state) behind a middleware that turns an RPC v2 CBOR request into the
equivalent awsJson1.0 request, and moto's JSON answer back into CBOR, using
botocore's model of CloudWatch to find the timestamp members.

With `--deny OP[,OP…]` it is also the denying proxy of the permission
tests: a request for a named operation (`ecs:DescribeTaskDefinition`, the
IAM action form: service prefix, colon, operation) is answered with
AccessDenied in the protocol the SDK spoke (awsJson, Query XML, CBOR, or
REST-JSON for GuardDuty's GET /detector and /detector/ID) and never
reaches moto.

It also fills two gaps in moto's CodeDeploy (moto 5.2.5): StopDeployment,
which moto does not implement (500 NotImplementedError), is answered here
from moto's own CodeDeploy state (`X-Amz-Target:
CodeDeploy_20141006.StopDeployment`, body `{"deploymentId": ID,
"autoRollbackEnabled": BOOL?}`): an unknown id is
DeploymentDoesNotExistException, a Succeeded/Failed/Stopped one
DeploymentAlreadyCompletedException; otherwise the deployment becomes
Stopped and, with autoRollbackEnabled, a Succeeded rollback deployment
(creator codeDeployRollback, same application, group and revision) is
created, the two linked by rollbackInfo (rollbackDeploymentId /
rollbackTriggeringDeploymentId). GetDeployment and BatchGetDeployments then
show that rollbackInfo and errorInformation where moto hard-codes `{}`.
`--deny codedeploy:StopDeployment` (or any `codedeploy:` operation) denies
it like the others.

And two gaps in moto's RDS: FailoverGlobalCluster and SwitchoverGlobalCluster
(Query protocol, `Action=…&GlobalClusterIdentifier=…&TargetDbClusterIdentifier=…`)
move the writer of moto's own global cluster (found in whichever region's
backend holds it) to the target member: an unknown global cluster is
GlobalClusterNotFoundFault, a target that is not a member
DBClusterNotFoundFault, a switchover whose writer is not `available`
InvalidGlobalClusterStateFault. The answer is the GlobalCluster with its
members, as RDS gives it. PromoteReadReplica, which moto leaves naming its
source, makes the instance standalone as RDS does (no
ReadReplicaSourceDBInstanceIdentifier).

Usage: python moto_shim.py PORT [--deny OP[,OP...]]
"""

import io
import json
import os
import re
import sys
import threading
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.session
import cbor2
from botocore.parsers import create_parser
import moto.codedeploy.responses as codedeploy_responses
from moto.codedeploy.models import codedeploy_backends
from moto.core.utils import utcnow
from moto.iam.models import get_account_id_from
from moto.rds.models import RDSBackend, rds_backends
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


# X-Amz-Target prefixes (awsJson) and signing names of the services the
# tests deny, to the IAM action prefix.
JSON_TARGETS = {
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "AnyScaleFrontendService": "application-autoscaling",
    "Logs_20140328": "logs",
    "GraniteServiceVersion20100801": "cloudwatch",
    "CodeDeploy_20141006": "codedeploy",
    "AmazonEC2ContainerRegistry_V20150921": "ecr",
}
QUERY_SERVICES = {
    "iam": "iam",
    "elasticloadbalancing": "elasticloadbalancing",
    "monitoring": "cloudwatch",
    "ec2": "ec2",
}


class Deny:
    """Answer AccessDenied for the named operations, pass the rest on."""

    def __init__(self, app, ops):
        self.app = app
        self.ops = set(ops)

    def action(self, environ):
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            return "cbor", "cloudwatch:" + path[len(PREFIX):], None
        # GuardDuty is REST-JSON: the operation is the method and path.
        if path.startswith("/detector") and environ.get("REQUEST_METHOD") == "GET":
            parts = [p for p in path.split("/") if p]
            op = {1: "ListDetectors", 2: "GetDetector"}.get(len(parts), "")
            return "rest", f"guardduty:{op}", None
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if "." in target:
            prefix, op = target.split(".", 1)
            return "json", f"{JSON_TARGETS.get(prefix, prefix)}:{op}", None
        # Query protocol: Action= in the form body; the service from the
        # credential scope of the signature.
        auth = environ.get("HTTP_AUTHORIZATION", "")
        service = ""
        if "Credential=" in auth:
            scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
            if len(scope) >= 4:
                service = QUERY_SERVICES.get(scope[3], scope[3])
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        from urllib.parse import parse_qs

        form = parse_qs(raw.decode("utf-8", "replace"))
        op = (form.get("Action") or [""])[0]
        return "query", f"{service}:{op}", raw

    def __call__(self, environ, start_response):
        proto, action, _ = self.action(environ)
        if action not in self.ops:
            return self.app(environ, start_response)
        message = (
            "User: arn:aws:iam::123456789012:user/ecsdeck-test is not authorized "
            f"to perform: {action} because no identity-based policy allows the "
            f"{action} action"
        )
        if proto in ("json", "rest"):
            body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
            headers = [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("x-amzn-ErrorType", "AccessDeniedException"),
            ]
        elif proto == "cbor":
            body = cbor2.dumps({"__type": "AccessDenied", "message": message})
            headers = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        else:
            body = (
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                f"<Message>{message}</Message></Error><RequestId>denied</RequestId></ErrorResponse>"
            ).encode()
            headers = [("Content-Type", "text/xml")]
        headers.append(("Content-Length", str(len(body))))
        start_response("400 Bad Request" if proto not in ("query", "rest") else "403 Forbidden", headers)
        return [body]


# moto's GetDeployment / BatchGetDeployments hard-code rollbackInfo and
# errorInformation to {}; show what StopDeployment below recorded instead.
# (moto's responses look `_deployment_info` up at call time.)
_moto_deployment_info = codedeploy_responses._deployment_info


def _deployment_info(deployment):
    out = _moto_deployment_info(deployment)
    out["rollbackInfo"] = getattr(deployment, "rollback_info", None) or {}
    out["errorInformation"] = getattr(deployment, "error_information", None) or {}
    return out


codedeploy_responses._deployment_info = _deployment_info

STOP_TARGET = "CodeDeploy_20141006.StopDeployment"
ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")


def _scope(environ):
    """The SigV4 credential scope: access key, date, region, service."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" not in auth:
        return []
    return auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")


def _account(environ):
    """The account moto itself would use for this request (its
    BaseResponse.get_current_account): MOTO_ACCOUNT_ID, the
    x-moto-account-id header, else the account of the access key, which
    covers STS AssumeRole credentials into another account."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return environ["HTTP_X_MOTO_ACCOUNT_ID"]
    match = ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
    return get_account_id_from(match.group(1) if match else "AKIAEXAMPLE")


def _json_answer(start_response, status, obj, error=None):
    body = json.dumps(obj).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("Content-Length", str(len(body))),
    ]
    if error:
        headers.append(("x-amzn-ErrorType", error))
    start_response(status, headers)
    return [body]


class CodeDeployStop:
    """CodeDeploy StopDeployment, which moto lacks, on moto's own state."""

    lock = threading.Lock()

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET") != STOP_TARGET:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            req = json.loads(raw) if raw else {}
        except ValueError:
            req = {}
        scope = _scope(environ)
        region = scope[2] if len(scope) >= 3 else "us-east-1"
        backend = codedeploy_backends[_account(environ)][region]
        dep_id = req.get("deploymentId") or ""
        with self.lock:
            dep = backend.deployments.get(dep_id)
            if dep is None:
                error = "DeploymentDoesNotExistException"
                message = f"The deployment {dep_id} does not exist with the user or AWS account."
                return _json_answer(
                    start_response, "400 Bad Request", {"__type": error, "message": message}, error
                )
            if dep.status in ("Succeeded", "Failed", "Stopped"):
                error = "DeploymentAlreadyCompletedException"
                message = f"The deployment {dep_id} has already completed."
                return _json_answer(
                    start_response, "400 Bad Request", {"__type": error, "message": message}, error
                )
            now = utcnow()
            dep.status = "Stopped"
            dep.start_time = dep.start_time or now
            dep.complete_time = now
            dep.error_information = {
                "code": "DEPLOYMENT_STOPPED",
                "message": "The deployment was stopped by the user.",
            }
            if req.get("autoRollbackEnabled"):
                rb_id = backend.create_deployment(
                    dep.application_name,
                    dep.deployment_group_name,
                    dep.revision,
                    deployment_config_name=dep.deployment_config_name,
                )
                rb = backend.deployments[rb_id]
                rb.creator = "codeDeployRollback"
                rb.status = "Succeeded"
                rb.start_time = rb.complete_time = utcnow()
                rb.rollback_info = {"rollbackTriggeringDeploymentId": dep.deployment_id}
                dep.rollback_info = {
                    "rollbackDeploymentId": rb_id,
                    "rollbackMessage": f"Deployment {dep.deployment_id} was stopped; "
                    f"rolled back by deployment {rb_id}.",
                }
        return _json_answer(
            start_response,
            "200 OK",
            {"status": "Succeeded", "statusMessage": "Deployment stopped"},
        )


_moto_promote = RDSBackend.promote_read_replica


def _promote_read_replica(self, db_kwargs):
    database = self.databases[db_kwargs["db_instance_identifier"]]
    was_replica = database.is_replica
    out = _moto_promote(self, db_kwargs)
    if was_replica:
        database.source_db_instance_identifier = None
    return out


RDSBackend.promote_read_replica = _promote_read_replica

RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"
GLOBAL_ACTIONS = ("FailoverGlobalCluster", "SwitchoverGlobalCluster")


def _rds_answer(start_response, status, body, rid):
    start_response(
        status,
        [
            ("Content-Type", "text/xml"),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", rid),
        ],
    )
    return [body]


def _rds_error(start_response, status, code, message):
    rid = str(uuid.uuid4())
    body = (
        f'<ErrorResponse xmlns="{RDS_NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{rid}</RequestId>"
        "</ErrorResponse>"
    ).encode()
    return _rds_answer(start_response, status, body, rid)


class RdsGlobalFailover:
    """FailoverGlobalCluster / SwitchoverGlobalCluster, which moto lacks."""

    lock = threading.Lock()

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        scope = _scope(environ)
        if len(scope) < 4 or scope[3] != "rds" or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        form = parse_qs(raw.decode("utf-8", "replace"))
        action = form.get("Action", [""])[0]
        if action not in GLOBAL_ACTIONS:
            return self.app(environ, start_response)
        gid = form.get("GlobalClusterIdentifier", [""])[0].lower()
        target = form.get("TargetDbClusterIdentifier", [""])[0]
        with self.lock:
            found = None
            for backend in rds_backends[_account(environ)].values():
                if gid in backend.global_clusters:
                    found = backend.global_clusters[gid]
                    break
            if found is None:
                return _rds_error(
                    start_response, "404 Not Found", "GlobalClusterNotFoundFault",
                    f"Global cluster {gid} not found.",
                )
            member = next(
                (
                    m for m in found.members
                    if target in (m.db_cluster_arn, m.db_cluster_identifier)
                ),
                None,
            )
            if member is None:
                return _rds_error(
                    start_response, "404 Not Found", "DBClusterNotFoundFault",
                    f"{target} is not a member of global cluster {gid}.",
                )
            writer = next((m for m in found.members if m.is_writer), None)
            if action == "SwitchoverGlobalCluster" and (
                writer is None or writer.status != "available"
            ):
                return _rds_error(
                    start_response, "400 Bad Request", "InvalidGlobalClusterStateFault",
                    f"The writer of {gid} is not available: a switchover needs it.",
                )
            for m in found.members:
                m.is_writer = m is member
            members = "".join(
                f"<GlobalClusterMember><DBClusterArn>{escape(m.db_cluster_arn)}</DBClusterArn>"
                f"<IsWriter>{'true' if m.is_writer else 'false'}</IsWriter></GlobalClusterMember>"
                for m in found.members
            )
        rid = str(uuid.uuid4())
        body = (
            f'<{action}Response xmlns="{RDS_NS}"><{action}Result><GlobalCluster>'
            f"<GlobalClusterIdentifier>{escape(gid)}</GlobalClusterIdentifier>"
            f"<GlobalClusterArn>{escape(found.global_cluster_arn)}</GlobalClusterArn>"
            f"<Status>available</Status><GlobalClusterMembers>{members}</GlobalClusterMembers>"
            f"</GlobalCluster></{action}Result><ResponseMetadata><RequestId>{rid}"
            f"</RequestId></ResponseMetadata></{action}Response>"
        ).encode()
        return _rds_answer(start_response, "200 OK", body, rid)


def main():
    port = int(sys.argv[1])
    deny = []
    if len(sys.argv) > 3 and sys.argv[2] == "--deny":
        deny = [op for op in sys.argv[3].split(",") if op]
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        "127.0.0.1",
        port,
        Deny(RdsGlobalFailover(CodeDeployStop(CborShim(app))), deny),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
