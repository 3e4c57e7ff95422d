"""Static checks of the deployment files: what a Docker build or ``docker-compose up`` would
trip over, found without Docker (CI has none; the stack itself was run by hand, see README).
"""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMPOSE = (REPO / "docker-compose.yml").read_text()


def _dockerignore() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and line[0] != "#"]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the build context (no ``!`` rules are used)."""
    parts = path.rstrip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
        or fnmatch.fnmatch(parts[-1], pattern.removeprefix("**/"))
        for pattern in patterns
        for prefix in prefixes
    )


def test_every_file_the_dockerfile_copies_is_in_the_build_context():
    sources = []
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            sources += [s for s in line.split()[1:-1] if not s.startswith("--")]
    assert "app.py" in sources and "layerviz/" in sources
    patterns = _dockerignore()
    for source in sources:
        assert (REPO / source).exists(), source
        assert not _ignored(source, patterns), f"{source} is excluded by .dockerignore"


def test_the_secret_is_kept_out_of_the_image_and_the_repository():
    assert ".env" in _dockerignore()
    assert ".env" in (REPO / ".gitignore").read_text().splitlines()


def test_compose_requires_a_secret_and_has_no_default():
    assert re.search(r"LAYERVIZ_SECRET: \$\{LAYERVIZ_SECRET:\?", COMPOSE)
    assert ":-" not in COMPOSE.split("LAYERVIZ_SECRET:")[1].splitlines()[0]


def test_compose_commands_name_what_app_py_defines():
    tree = ast.parse((REPO / "app.py").read_text())
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert {"server", "celery_app"} <= names
    assert '"app:server"' in COMPOSE and '"app:celery_app"' in COMPOSE


def test_celery_runs_on_threads_never_a_forking_pool():
    # The worker imports TensorFlow with the app; prefork children of it hung (README).
    command = re.search(r'command: \["celery".*?\]', COMPOSE, re.S).group(0)
    assert '"--pool", "threads"' in command


def test_web_runs_several_workers_behind_the_proxy():
    command = re.search(r'command: \["gunicorn".*?\]', COMPOSE, re.S).group(0)
    workers = int(re.search(r'"--workers", "(\d+)"', command).group(1))
    assert workers >= 2
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in COMPOSE
    nginx = (REPO / "deploy" / "nginx.conf").read_text()
    # tests/integration/deploy.py points this line at a local gunicorn.
    assert "set $layerviz_web web:8050;" in nginx and "proxy_pass http://$layerviz_web;" in nginx
