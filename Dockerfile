FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 newsgraph
WORKDIR /app

COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY db ./db
COPY seeds ./seeds
COPY openapi ./openapi
RUN pip install .

USER newsgraph
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["newsgraph", "serve"]
