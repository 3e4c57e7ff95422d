"""The small builders every part of the page shares (layerviz.ui.blocks)."""

from __future__ import annotations

from dash import dcc, html

from layerviz.ui.blocks import upload_zone


def test_an_upload_zone_states_and_enforces_one_limit():
    zone = upload_zone(
        "up", "up-info", max_bytes=3 * 2**20, accept=".npz", what="a set", formats=".npz", name="f"
    )
    named, info = zone.children
    upload = named.children
    assert isinstance(upload, dcc.Upload) and upload.id == "up" and upload.accept == ".npz"
    # The browser's drop limit, the guard's (assets/upload-guard.js) and the text agree.
    assert upload.max_size == 3 * 2**20
    assert zone.to_plotly_json()["props"]["data-max-bytes"] == str(3 * 2**20)
    assert named.to_plotly_json()["props"]["data-a11y-label"] == "f"
    text = upload.children.children
    assert text[0].children == "Drop a set or "
    assert text[2].children == ".npz — up to 3 MB"
    assert isinstance(info, html.Small) and info.id == "up-info" and info.role == "status"
