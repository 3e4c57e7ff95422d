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


def test_job_controls_start_with_cancel_off_and_a_polite_status_line():
    from layerviz.ui.blocks import job_controls

    buttons, progress, summary = job_controls("run", "Run it", "stop", "bar", "line")
    run, cancel = buttons.children
    assert (run.id, run.children) == ("run", "Run it") and not getattr(run, "disabled", False)
    assert (cancel.id, cancel.children, cancel.disabled) == ("stop", "Cancel", True)
    assert (progress.id, progress.value, progress.max) == ("bar", 0, 1)
    assert summary.id == "line" and summary.role == "status"
    assert summary.to_plotly_json()["props"]["aria-live"] == "polite"
