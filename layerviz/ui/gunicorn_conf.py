"""gunicorn settings for the dashboard: ``gunicorn -c python:layerviz.ui.gunicorn_conf app:server``.

gunicorn answers every response with ``Server: gunicorn``; it has no setting for that header, so
the name it reads when it builds a response is set here. Nothing else of gunicorn changes.
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "layerviz"

bind = "0.0.0.0:8050"
# One worker holds the models and the activation cache in its memory; threads serve callbacks.
workers = 1
threads = 4
timeout = 120
