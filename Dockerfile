# CPU image of the layerviz dashboard: gunicorn serving app:server on port 8050.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

# Graphviz draws the architecture (model.png) through keras.utils.plot_model.
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
# layerviz as a wheel, not editable: the bundled models and the page's assets travel inside
# the package (layerviz/_models, layerviz/_assets); the sources are not copied into /app.
COPY pyproject.toml README.md /tmp/src/
COPY layerviz/ /tmp/src/layerviz/
COPY assets/ /tmp/src/assets/
COPY models/ /tmp/src/models/
RUN pip install --no-deps /tmp/src \
    && rm -rf /tmp/src \
    && useradd --create-home layerviz
COPY app.py ./
USER layerviz

EXPOSE 8050
# layerviz/ui/gunicorn_conf.py: one worker (it holds the models and the activation cache), 4 threads.
CMD ["gunicorn", "-c", "python:layerviz.ui.gunicorn_conf", "app:server"]
