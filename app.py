"""Serve the layerviz dashboard: ``python app.py``, or ``gunicorn app:server``."""

from layerviz.ui.app import create_app

app = create_app()
server = app.server

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8050, debug=False)
