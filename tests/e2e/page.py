"""What the browser tests share: serving a fresh app with its default grid drawn, and reading
the grid the page shows (``from e2e.page import ...``; ``tests/`` is on the path)."""

from __future__ import annotations

from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.callbacks import render_grid

#: The bundled model the page opens with.
MODEL = "digits_cnn"

#: The activation graph's panels as drawn (each an image trace's PNG source, joined), or null
#: before any is drawn: a change in it means the grid was redrawn.
GRID_JS = f"""
const gd = document.querySelector('#{ids.ACTIVATION_GRAPH} .js-plotly-plot');
if (!gd || !gd.data) {{ return null; }}
const z = gd.data.filter(t => t.type === 'image').map(t => t.source);
return z.length ? z.join('|') : null;
"""


def sel(component_id: str) -> str:
    """The CSS selector of a component id."""
    return f"#{component_id}"


def start_default_grid(dash_duo):
    """Serve a fresh app and wait until the grid summary shows the default pattern's first
    page (3×3, size limit 15, as the callbacks compute it); returns the app."""
    app = create_app()
    dash_duo.start_server(app)
    recipe = app.workbench.default_recipe(MODEL)
    summary = render_grid(app.workbench, recipe.to_store(), 3, 3, 15, 1)[3]
    dash_duo.wait_for_text_to_equal(sel(ids.GRID_SUMMARY), summary, timeout=30)
    return app
