"""gunicorn settings for the dashboard: ``gunicorn -c python:layerviz.ui.gunicorn_conf app:server``.

gunicorn answers every response with ``Server: gunicorn``; it has no setting for that header, so
the name it reads when it builds a response is set here.

Each worker warms its default model (loads it, traces its forward pass on the default pattern)
in ``post_worker_init``: after the fork and after the app is loaded, before the worker accepts
a connection, so no user waits for it (a p95 of 2.3 s came from cold workers).
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "layerviz"

bind = "0.0.0.0:8050"
# One worker holds the models and the activation cache in its memory; threads serve callbacks.
workers = 1
threads = 4
timeout = 120


def post_worker_init(worker):
    """gunicorn's hook: warm the worker's default model before it takes traffic."""
    warmup = getattr(worker.wsgi, "layerviz_warmup", None)
    if warmup is not None:
        warmup.run()
