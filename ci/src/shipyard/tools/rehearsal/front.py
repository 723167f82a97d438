"""An HTTP front that makes moto plus the rollout model look like one AWS endpoint.

Requests whose `X-Amz-Target` is one of ECS's rollout-relevant operations are answered from
moto's data with the model's scheduler state laid over it; ECR's image calls from the real
registry publish pushed to (see ecr_images); every other request (ECR's repositories and sign-in,
logs, IAM, STS, task definitions, ...) is forwarded to moto unchanged. CloudWatch log lines that the
model's tasks print are written to moto's logs API, so readers use the real logs client.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import boto3  # type: ignore[import-untyped, unused-ignore]
import botocore.loaders  # type: ignore[import-untyped, unused-ignore]
import botocore.session  # type: ignore[import-untyped, unused-ignore]
import httpx

from shipyard.decide import topology
from shipyard.tools.rehearsal import ecr_images
from shipyard.tools.rehearsal.ecs_state import ContainerInfo, LogRecord, SimService, Timings
from shipyard.tools.rehearsal.faults import Fault
from shipyard.tools.rehearsal.model import RolloutModel

ECS_PREFIX = "AmazonEC2ContainerServiceV20141113."
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
JSON_TYPE = "application/x-amz-json-1.1"
# moto accepts any credentials; these only keep boto3 from looking for real ones.
MOTO_CREDENTIALS = {"aws_access_key_id": "rehearsal", "aws_secret_access_key": "rehearsal"}


_MODEL_LOADER = botocore.loaders.create_loader()


def moto_session(region: str) -> Any:
    """A boto3 session for moto that shares one parsed-model cache (client creation is slow)."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _MODEL_LOADER)
    return boto3.session.Session(botocore_session=core, region_name=region, **MOTO_CREDENTIALS)


class ScaledClock:
    """Simulated seconds since creation: real elapsed time multiplied by `time_scale`."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self._start = time.monotonic()
        self.time_scale = time_scale

    def __call__(self) -> float:
        return (time.monotonic() - self._start) * self.time_scale


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def json(cls, status: int, payload: dict[str, Any]) -> Reply:
        return cls(status, {"Content-Type": JSON_TYPE}, json.dumps(payload).encode())


@dataclass(frozen=True)
class _EcsCall:
    """One intercepted ECS request: its parsed JSON, and the raw parts to forward it to moto."""

    request: dict[str, Any]
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


_BREAKER_OFF = (False, False)


def _circuit_breaker(holder: dict[str, Any]) -> tuple[bool, bool] | None:
    """(enable, rollback) of the circuit breaker in `holder`'s `deploymentConfiguration`.

    None when it names no breaker: an update without one leaves the service's breaker as is.
    """
    breaker = (holder.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker")
    return (bool(breaker.get("enable")), bool(breaker.get("rollback"))) if breaker else None


def operation_name(headers: dict[str, str], body: bytes) -> str:
    """`Service.Operation` for JSON-protocol calls, `Action` for query-protocol ones."""
    target = headers.get("x-amz-target")
    if target:
        return target
    if body:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    return "unknown"


class RehearsalFront:
    """The request handling logic, independent of the HTTP server that carries it."""

    def __init__(
        self,
        moto_url: str,
        *,
        region: str = topology.REGION,
        faults: list[Fault] | None = None,
        clock: Callable[[], float] | None = None,
        timings: Timings | None = None,
        app_probes: dict[str, Callable[[], bool]] | None = None,
        throttle: dict[str, int] | None = None,
        image_registry: str | None = None,
    ) -> None:
        self.moto_url = moto_url.rstrip("/")
        session = moto_session(region)
        self._ecs = session.client("ecs", endpoint_url=self.moto_url)
        self._ecr = session.client("ecr", endpoint_url=self.moto_url)
        self._logs = session.client("logs", endpoint_url=self.moto_url)
        self._http = httpx.Client(timeout=30.0)
        self._images = (
            ecr_images.RegistryImages(image_registry, self._http) if image_registry else None
        )
        self.model = RolloutModel(
            clock or ScaledClock(),
            self._containers_of,
            faults=faults,
            timings=timings,
            epoch=time.time(),
        )
        self.app_probes = dict(app_probes or {})
        self.throttle = dict(throttle or {})
        self.calls: Counter[str] = Counter()
        self.lock = threading.RLock()
        self._circuit_breakers: dict[tuple[str, str], tuple[bool, bool]] = {}

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ plumbing
    def _containers_of(self, task_definition: str) -> list[ContainerInfo]:
        described = self._ecs.describe_task_definition(taskDefinition=task_definition)
        return [
            ContainerInfo(
                name=c["name"],
                image=c.get("image", ""),
                essential=c.get("essential", True),
                log_options=(c.get("logConfiguration") or {}).get("options"),
            )
            for c in described["taskDefinition"]["containerDefinitions"]
        ]

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        response = self._http.request(
            method,
            self.moto_url + path,
            headers={k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP},
            content=body,
        )
        return Reply(
            response.status_code,
            {
                k: v
                for k, v in response.headers.items()
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-encoding"
            },
            response.content,
        )

    def _forward(self, call: _EcsCall) -> Reply:
        return self.forward(call.method, call.path, call.headers, call.body)

    def _write_logs(self, records: list[LogRecord]) -> None:
        streams: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for record in records:
            streams.setdefault((record.group, record.stream), []).append(
                {"timestamp": record.timestamp_ms, "message": record.message}
            )
        for (group, stream), events in streams.items():
            try:
                with contextlib.suppress(self._logs.exceptions.ResourceAlreadyExistsException):
                    self._logs.create_log_stream(logGroupName=group, logStreamName=stream)
                self._logs.put_log_events(
                    logGroupName=group, logStreamName=stream, logEvents=events
                )
            except self._logs.exceptions.ResourceNotFoundException:
                # ECS cannot write to a missing log group either; the lines are lost there too.
                continue

    # ------------------------------------------------------------------ entry point
    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        headers = {k.lower(): v for k, v in headers.items()}
        operation = operation_name(headers, body)
        if method == "GET" and path.startswith("/_rehearsal/"):
            return self._control(path)
        with self.lock:
            self.calls[operation] += 1
            short = operation.rsplit(".", 1)[-1]
            if self.throttle.get(short, 0) > 0:
                self.throttle[short] -= 1
                self.calls["throttled:" + short] += 1
                return Reply.json(
                    400, {"__type": "ThrottlingException", "message": "Rate exceeded"}
                )
            self.model.advance()
            reply: Reply | None = None
            handler = (
                self._ecs_handlers().get(operation.removeprefix(ECS_PREFIX))
                if operation.startswith(ECS_PREFIX)
                else None
            )
            if handler is not None:
                reply = handler(_EcsCall(json.loads(body or b"{}"), method, path, headers, body))
            records = self.model.take_logs()
        # Written outside the lock, so that other callers' polls do not wait for log writes;
        # this caller's reply still leaves only after the lines are in moto.
        self._write_logs(records)
        return (
            reply
            or self._from_registry(operation, body)
            or self.forward(method, path, headers, body)
        )

    def _from_registry(self, operation: str, body: bytes) -> Reply | None:
        """ECR's image calls for a repository moto knows, answered from the real registry."""
        if self._images is None or not ecr_images.is_image_call(operation):
            return None
        request = json.loads(body or b"{}")
        try:
            repository = self._ecr.describe_repositories(
                repositoryNames=[request["repositoryName"]]
            )["repositories"][0]
        except (KeyError, self._ecr.exceptions.RepositoryNotFoundException):
            return None  # moto answers as ECR does: a malformed request, or no such repository
        found = ecr_images.answer(operation, request, repository["registryId"], self._images)
        return Reply.json(200, found) if found is not None else None

    def _control(self, path: str) -> Reply:
        if path == "/_rehearsal/calls":
            with self.lock:
                return Reply.json(200, dict(self.calls))
        if path == "/_rehearsal/clock":
            return Reply.json(200, {"now": self.model.clock_now()})
        if path == "/_rehearsal/transitions":
            with self.lock:
                self.model.advance()
                transitions = [
                    {"at": at, "deployment_id": deployment, "state": state}
                    for at, deployment, state in self.model.transitions
                ]
            return Reply.json(200, {"transitions": transitions})
        if path == "/_rehearsal/health":
            return Reply.json(200, {"status": "ok"})
        return Reply.json(404, {"message": f"unknown rehearsal path {path}"})

    Handler = Callable[[_EcsCall], Reply]

    def _ecs_handlers(self) -> dict[str, Handler]:
        return {
            "CreateService": self._create_service,
            "DescribeServices": self._describe_services,
            "UpdateService": self._update_service,
            "ListTasks": self._list_tasks,
            "DescribeTasks": self._describe_tasks,
        }

    # ------------------------------------------------------------------ ECS
    def _adopt(self, described: dict[str, Any]) -> SimService:
        key = (described["clusterArn"], described["serviceName"])
        existing = self.model.find(*key)
        if existing is not None:
            return existing
        enable, rollback = self._circuit_breakers.get(
            key, _circuit_breaker(described) or _BREAKER_OFF
        )
        deployments = described.get("deployments") or [{}]
        service = self.model.adopt(
            cluster_arn=described["clusterArn"],
            name=described["serviceName"],
            arn=described["serviceArn"],
            task_definition=described["taskDefinition"],
            desired_count=int(described.get("desiredCount", 1)),
            deployment_id=deployments[0].get("id"),
            circuit_breaker=enable,
            rollback=rollback,
        )
        service.app_probe = self.app_probes.get(service.name)
        return service

    def _adopt_by_name(self, cluster: str, name: str) -> SimService | None:
        described = self._ecs.describe_services(cluster=cluster, services=[name])["services"]
        active = [s for s in described if s.get("status") == "ACTIVE"]
        return self._adopt(json.loads(json.dumps(active[0], default=_epoch))) if active else None

    def _create_service(self, call: _EcsCall) -> Reply:
        reply = self._forward(call)
        if reply.status != 200:
            return reply
        payload = json.loads(reply.body)
        described = payload["service"]
        key = (described["clusterArn"], described["serviceName"])
        self._circuit_breakers[key] = _circuit_breaker(call.request) or _BREAKER_OFF
        payload["service"] = self.model.overlay_service(self._adopt(described), described)
        return Reply.json(200, payload)

    def _describe_services(self, call: _EcsCall) -> Reply:
        reply = self._forward(call)
        if reply.status != 200:
            return reply
        payload = json.loads(reply.body)
        payload["services"] = [
            self.model.overlay_service(self._adopt(s), s) if s.get("status") == "ACTIVE" else s
            for s in payload.get("services", [])
        ]
        return Reply.json(200, payload)

    def _update_service(self, call: _EcsCall) -> Reply:
        cluster = call.request.get("cluster", "default")
        try:
            service = self._adopt_by_name(cluster, call.request.get("service", ""))
        except self._ecs.exceptions.ClientError:
            service = None  # moto's own answer to the forwarded call names the problem
        reply = self._forward(call)
        if reply.status != 200 or service is None:
            return reply
        payload = json.loads(reply.body)
        task_definition = call.request.get("taskDefinition")
        self.model.update_service(
            service,
            task_definition=payload["service"]["taskDefinition"] if task_definition else None,
            desired_count=call.request.get("desiredCount"),
            force_new_deployment=bool(call.request.get("forceNewDeployment")),
            circuit_breaker=_circuit_breaker(call.request),
        )
        payload["service"] = self.model.overlay_service(service, payload["service"])
        return Reply.json(200, payload)

    def _list_tasks(self, call: _EcsCall) -> Reply:
        reply = self._forward(call)
        if reply.status != 200:
            return reply
        cluster = call.request.get("cluster", "default")
        service_name = call.request.get("serviceName")
        service = self._adopt_by_name(cluster, service_name) if service_name else None
        if service_name and service is None:
            return Reply.json(
                400, {"__type": "ServiceNotFoundException", "message": "Service not found."}
            )
        arns = self.model.list_task_arns(
            service, call.request.get("desiredStatus", "RUNNING"), call.request.get("startedBy")
        )
        return Reply.json(200, {"taskArns": arns})

    def _describe_tasks(self, call: _EcsCall) -> Reply:
        reply = self._forward(call)
        if reply.status != 200:
            return reply
        tasks: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for arn in call.request.get("tasks", []):
            task = self.model.find_task(arn)
            if task is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                tasks.append(self.model.describe_task(task))
        return Reply.json(200, {"tasks": tasks, "failures": failures})


def _epoch(value: object) -> object:
    timestamp = getattr(value, "timestamp", None)
    return timestamp() if callable(timestamp) else str(value)


def http_probe(url: str) -> Callable[[], bool]:
    """A health probe for a real app behind a service: True when `url` answers 2xx."""

    def probe() -> bool:
        try:
            return httpx.get(url, timeout=5.0).is_success
        except httpx.HTTPError:
            return False

    return probe


class _RequestHandler(BaseHTTPRequestHandler):
    front: RehearsalFront
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each answer waits ~40 ms.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.front.handle(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the front answers many polls per second."""


def make_server(front: RehearsalFront, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (_RequestHandler,), {"front": front})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
