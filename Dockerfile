# coachbot runtime image: slim Python, the pinned dependencies, a non-root user.
# `coachbot run` upgrades a SQLite database itself; on PostgreSQL run `coachbot migrate` first.
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
RUN useradd --create-home --uid 10001 coachbot
COPY --from=build /install /usr/local
USER coachbot
WORKDIR /home/coachbot
ENV DATA_DIR=/home/coachbot/data PYTHONUNBUFFERED=1
VOLUME ["/home/coachbot/data"]
CMD ["coachbot", "run"]
