# Production image: slim, non-root; migrates, then serves with several workers.
# Receipt PDFs use the standard CJK font STSong-Light (supplied by PDF readers): no font to install.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATA_DIR=/var/lib/outlet-filing \
    ENVIRONMENT=production \
    WORKERS=4

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY cli ./cli
COPY api ./api
COPY web ./web
COPY services ./services
COPY schemas ./schemas
COPY models ./models
COPY domain ./domain
COPY core ./core
COPY migrations ./migrations
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/outlet-filing --create-home outlet \
    && chown -R outlet /var/lib/outlet-filing

USER outlet
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
CMD ["sh", "-c", "outlet-filing migrate && exec outlet-filing serve --host 0.0.0.0 --port 8000 --workers ${WORKERS}"]
