"""Serve the layerviz dashboard: ``python app.py``, or ``gunicorn app:server``.

With ``LAYERVIZ_REDIS_URL`` set, ``celery -A app:celery_app worker --pool threads`` runs its
background jobs (see the README, "Serving a team").
"""

from layerviz.ui.app import create_app

app = create_app()
server = app.server
celery_app = app.celery_app  # None unless LAYERVIZ_REDIS_URL is set

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8050, debug=False)
