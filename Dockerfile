# CPU image of the layerviz dashboard: gunicorn serving app:server on port 8050.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TF_CPP_MIN_LOG_LEVEL=3

# Graphviz draws the architecture (model.png) through keras.utils.plot_model.
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt pyproject.toml README.md ./
RUN pip install -r requirements.txt
COPY layerviz/ layerviz/
COPY assets/ assets/
COPY models/ models/
COPY app.py ./
RUN pip install --no-deps -e . \
    && useradd --create-home layerviz
USER layerviz

EXPOSE 8050
# layerviz/ui/gunicorn_conf.py: one worker (it holds the models and the activation cache), 4 threads.
CMD ["gunicorn", "-c", "python:layerviz.ui.gunicorn_conf", "app:server"]
