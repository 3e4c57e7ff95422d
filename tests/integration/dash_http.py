"""A Dash client over plain HTTP, as a browser's renderer talks to the server.

Every request goes on a fresh connection (``Connection: close``), as behind a load balancer,
so consecutive requests of one session land on any gunicorn worker. A session keeps only what
a browser keeps: its cookies, the page's config and its recipe. Below it, what the page's
controls send for an upload, a zip export and a health run, for the tests, the benchmarks and
``deploy/smoke.py`` alike.
"""

from __future__ import annotations

import base64
import http.cookiejar
import io
import json
import re
import time
import urllib.error
import urllib.request
import zipfile
from typing import Any, NamedTuple

import numpy as np

_CONFIG = re.compile(r'<script id="_dash-config" type="application/json">(.*?)</script>', re.S)


class DashSession:
    """One browser tab: the page's config, its cookies, and callbacks called by output id.

    Args:
        base: ``http://127.0.0.1:PORT``.
        timeout: seconds per request.
    """

    def __init__(self, base: str, timeout: float = 60):
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.config: dict = {}
        self.dependencies: list[dict] = []

    def request(self, path: str, body: Any = None) -> tuple[int, bytes]:
        """GET (or POST ``body`` as JSON) on a fresh connection: ``(status, body)``."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method="POST" if data else "GET")
        req.add_header("Connection", "close")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(req, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def open_page(self) -> None:
        """Load the page (which sets the session cookie) and the callback map."""
        status, html = self.request("/")
        assert status == 200, status
        self.config = json.loads(_CONFIG.search(html.decode()).group(1))
        status, deps = self.request("/_dash-dependencies")
        assert status == 200, status
        self.dependencies = json.loads(deps)

    def _callback(self, output: str) -> dict:
        for dep in self.dependencies:
            if output in dep["output"]:
                return dep
        raise KeyError(output)

    def call(self, output: str, values: dict[str, Any], trigger: str | None = None) -> dict:
        """Call the callback whose outputs include ``output`` (``"id.prop"``).

        ``values`` maps ``"id.prop"`` to what the browser holds (missing ones are None);
        ``trigger`` is the ``"id.prop"`` that changed. Returns the decoded response
        (``{"response": {...}}``), or ``{"status": N}`` for an answer without JSON.
        """
        return self.call_dependency(self._callback(output), values, trigger)

    def call_dependency(self, dep: dict, values: dict[str, Any], trigger: str | None) -> dict:
        """``call`` for one entry of ``self.dependencies``, as the renderer sends it."""
        status, data = self.request(self._url(), _body(dep, values, trigger))
        if status != 200 or not data:
            return {"status": status}
        return json.loads(data)

    def call_background(
        self, output: str, values: dict[str, Any], trigger: str, limit_s: float = 120
    ) -> tuple[dict, list]:
        """Start a background callback and poll it as the renderer does, until it answers.

        Returns:
            ``(final response, [progress updates seen])``.
        """
        body = _body(self._callback(output), values, trigger)
        status, data = self.request(self._url(), body)
        assert status == 200, (status, data[:300])
        handles = json.loads(data)
        progress = []
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            time.sleep(0.3)
            url = self._url(cacheKey=handles["cacheKey"], job=handles["job"])
            status, data = self.request(url, body)
            if status == 204 or not data:
                continue
            answer = json.loads(data)
            if "progress" in answer:
                progress.append(answer["progress"])
            if "response" in answer:
                return answer, progress
        raise TimeoutError(f"no answer from the background callback in {limit_s} s")

    def _url(self, **args: str) -> str:
        query = {"endId": self.config.get("end_id"), **args}
        pairs = "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in query.items() if v)
        return "/_dash-update-component" + (f"?{pairs}" if pairs else "")


def data_url(payload: bytes) -> str:
    """A file's bytes as the upload component sends them: a base64 data URL."""
    return "data:application/octet-stream;base64," + base64.b64encode(payload).decode()


def npy_url(array: np.ndarray) -> str:
    """``array`` as an uploaded ``.npy`` file (``data_url``)."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    return data_url(buffer.getvalue())


def export_values(recipe: dict) -> dict:
    """The Export button pressed for ``recipe``: one panel a page (1×1) and every layer (no
    size limit), so the zip has several pages."""
    return {
        "export-button.n_clicks": 1,
        "store-pattern.data": recipe,
        "grid-rows.value": 1,
        "grid-cols.value": 1,
        "size-limit.value": 0,
    }


def health_values(recipe: dict, seeds: int) -> dict:
    """The health section's Run pressed for ``seeds`` seeded patterns, ``recipe`` shown."""
    return {
        "health-button.n_clicks": 1,
        "store-pattern.data": recipe,
        "radio-health-source.value": "seeds",
        "input-health-seeds.value": seeds,
        "health-threshold.value": 0,
    }


class ExportedZip(NamedTuple):
    """What a zip export sent: its file name, the archive's page names, the first page's
    bytes and the progress labels seen while it ran."""

    filename: str
    pages: list[str]
    first: bytes
    labels: list[str]


def export_zip(session: DashSession, recipe: dict, limit_s: float = 120) -> ExportedZip:
    """Run the zip export of ``recipe`` (``export_values``) as the browser does, to the end."""
    answer, progress = session.call_background(
        "download-export-zip.data", export_values(recipe), "export-button.n_clicks", limit_s
    )
    sent = answer["response"]["download-export-zip"]["data"]
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(sent["content"]))) as archive:
        pages = archive.namelist()
        first = archive.read(pages[0]) if pages else b""
    labels = [p["export-progress.label"] for p in progress]
    return ExportedZip(sent["filename"], pages, first, labels)


def upload_model(session: DashSession, contents: str, filename: str, limit_s: float = 180) -> dict:
    """Drop a model file on the upload zone and poll its check as the page does (issue 25,
    row 2: the callback answers "checking…" at once; a poll brings the listed model).

    Returns:
        The answer that ended it: with ``store-model-uploads`` (listed) or ``error-alert``.
    """
    values = {"model-upload.contents": contents, "model-upload.filename": filename}
    answer = session.call("store-model-upload-pending.data", values, "model-upload.contents")[
        "response"
    ]
    pending = answer.get("store-model-upload-pending", {}).get("data")
    if not pending:
        return answer
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(0.5)
        polled = session.call(
            "store-model-uploads.data",
            {
                "interval-model-upload-poll.n_intervals": 1,
                "store-model-upload-pending.data": pending,
            },
            "interval-model-upload-poll.n_intervals",
        )["response"]
        if "store-model-uploads" in polled or polled.get("error-alert", {}).get("is_open"):
            return polled
    raise TimeoutError(f"the check of {filename} did not end in {limit_s} s")


def _body(dep: dict, values: dict[str, Any], trigger: str | None) -> dict:
    """The JSON of a callback request: the dependency's outputs, inputs and state with
    ``values`` filled in, and the prop that changed."""
    return {
        "output": dep["output"],
        "outputs": _outputs(dep["output"]),
        "inputs": [_value(i, values) for i in dep["inputs"]],
        "state": [_value(s, values) for s in dep["state"]],
        "changedPropIds": [trigger] if trigger else [],
    }


def _outputs(spec: str) -> list[dict] | dict:
    parts = [p for p in spec.strip(".").split("...") if p]
    outs = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]
    return outs if spec.startswith("..") else outs[0]


def _value(item: dict, values: dict[str, Any]) -> dict:
    key = f"{item['id']}.{item['property']}"
    return {**item, "value": values.get(key)}
