"""The run as OTLP traces: the JSON read by the OpenTelemetry protocol's own protobuf definitions
(opentelemetry-proto), a span tree that holds together (one trace, every parent present, steps inside their
deployment, stages inside the run), the same bytes for the same report, and ``iotops otlp`` posting it to an
OTLP/HTTP receiver."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from conftest import DATA, run_iotops
from google.protobuf.json_format import Parse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from pytest_iotops.model import RunReport, load_report
from pytest_iotops.render.otlp import render_otlp


def _report() -> RunReport:
    """The rich report with start times on its deployments (schema 2.3), a few seconds into the run."""
    report = load_report(DATA / "report-rich.json")
    start = report.run.started_at
    return dataclasses.replace(
        report, deployments=[dataclasses.replace(d, started_at=start) for d in report.deployments]
    )


def _spans(text: str) -> list[Any]:
    request = Parse(text, ExportTraceServiceRequest())
    (resource,) = request.resource_spans
    (scope,) = resource.scope_spans
    return list(scope.spans)


def test_the_spans_form_one_tree_the_protocol_reads() -> None:
    report = _report()
    spans = _spans(render_otlp(report))
    by_id = {s.span_id: s for s in spans}
    assert len(by_id) == len(spans), "span ids must be unique"
    assert len({s.trace_id for s in spans}) == 1
    (root,) = [s for s in spans if not s.parent_span_id]
    assert root.name == "pytest --iotops"
    assert root.status.code == (1 if report.verdict.status == "passed" else 2)
    for span in spans:
        if span is root:
            continue
        parent = by_id[span.parent_span_id]
        assert parent.start_time_unix_nano <= span.start_time_unix_nano
        assert span.start_time_unix_nano <= span.end_time_unix_nano
    names = [s.name for s in spans]
    assert [n for n in names if n.startswith("phase:")] == [s.name for s in report.stages if s.kind == "phase"]
    steps = [n for n in names if n.startswith("step ")]
    assert len(steps) == sum(len(d.steps) for d in report.deployments)
    attributes = {a.key: a.value.string_value for a in root.attributes}
    assert attributes["cicd.pipeline.result"] in ("success", "failure")


def test_the_same_report_gives_the_same_bytes_and_old_reports_still_render() -> None:
    assert render_otlp(_report()) == render_otlp(_report())
    old = load_report(DATA / "report-rich.json")  # deployments without started_at: no deployment spans
    assert not [s for s in _spans(render_otlp(old)) if s.name.startswith("deploy ")]


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        self.bodies.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_iotops_otlp_posts_the_traces(receiver: str) -> None:
    _Receiver.bodies.clear()
    done = run_iotops(DATA, "otlp", str(DATA / "report-rich.json"), "--endpoint", receiver)
    assert done.returncode == 0, done.stderr
    ((path, body),) = _Receiver.bodies
    assert path == "/v1/traces"
    assert len(_spans(body.decode())) >= 1 + len(load_report(DATA / "report-rich.json").stages)
    failed = run_iotops(DATA, "otlp", str(DATA / "report-rich.json"), "--endpoint", "http://127.0.0.1:9")
    assert failed.returncode == 3
    assert "OTLP endpoint at http://127.0.0.1:9 did not answer" in failed.stderr
