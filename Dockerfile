# coachbot runtime image: slim Python, the pinned dependencies, a non-root user. It migrates the
# database, then runs the bot (long polling; a webhook when WEBHOOK_URL is set), with /healthz on
# HEALTH_LISTEN (polling) or WEBHOOK_LISTEN (webhook) for the health check below.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements.lock ./
RUN pip install --no-cache-dir --prefix=/install -r requirements.lock
COPY pyproject.toml README.md ./
COPY coachbot coachbot
COPY migrations migrations
COPY content content
RUN pip install --no-cache-dir --prefix=/install --no-deps .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 coachbot \
    && mkdir -p /home/coachbot/data && chown coachbot:coachbot /home/coachbot/data
COPY --from=build /install /usr/local
USER coachbot
WORKDIR /home/coachbot
ENV DATA_DIR=/home/coachbot/data PYTHONUNBUFFERED=1 HEALTH_LISTEN=0.0.0.0:8080
# The folder exists, owned by coachbot, before VOLUME: Docker seeds a new volume with the image's
# folder (its owner included); a folder the image lacks would be created owned by root, and the
# non-root bot could not open its SQLite file there.
VOLUME ["/home/coachbot/data"]
EXPOSE 8080 8443
# /healthz answers 200 when the database answers and the dispatch scheduler runs, else 503.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; listen = os.environ.get('WEBHOOK_LISTEN', '0.0.0.0:8443') if os.environ.get('WEBHOOK_URL') else os.environ['HEALTH_LISTEN']; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % listen.rpartition(':')[2], timeout=4)"]
# Several instances starting together migrate one at a time (a PostgreSQL advisory lock).
CMD ["sh", "-c", "coachbot migrate && exec coachbot run"]
