"""A Dash client over plain HTTP, as a browser's renderer talks to the server.

Every request goes on a fresh connection (``Connection: close``), as behind a load balancer,
so consecutive requests of one session land on any gunicorn worker. A session keeps only what
a browser keeps: its cookies, the page's config and its recipe.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.request
from typing import Any

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
        dep = self._callback(output)
        body = {
            "output": dep["output"],
            "outputs": _outputs(dep["output"]),
            "inputs": [_value(i, values) for i in dep["inputs"]],
            "state": [_value(s, values) for s in dep["state"]],
            "changedPropIds": [trigger] if trigger else [],
        }
        status, data = self.request(self._url(), body)
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
        dep = self._callback(output)
        body = {
            "output": dep["output"],
            "outputs": _outputs(dep["output"]),
            "inputs": [_value(i, values) for i in dep["inputs"]],
            "state": [_value(s, values) for s in dep["state"]],
            "changedPropIds": [trigger],
        }
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


def _outputs(spec: str) -> list[dict] | dict:
    parts = [p for p in spec.strip(".").split("...") if p]
    outs = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]
    return outs if spec.startswith("..") else outs[0]


def _value(item: dict, values: dict[str, Any]) -> dict:
    key = f"{item['id']}.{item['property']}"
    return {**item, "value": values.get(key)}
