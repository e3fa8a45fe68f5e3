# The monitor in a container: scheduler and web UI together, settings from the environment (MONITOR_*).
#   docker build -t asker-monitor .
#   docker run -d --name monitor --init -p 127.0.0.1:8080:8080 -v monitor-var:/app/var --env-file monitor.env asker-monitor
# docs/operations.md#docker; tests/test_deploy_files.py checks that what this file names exists.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# A dedicated user without a login; it owns only var/.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin monitor

COPY pyproject.toml ./
COPY fetchers ./fetchers
COPY monitor ./monitor
COPY web ./web
RUN pip install . && rm -rf build *.egg-info

# The catalogues are read from the working directory (MONITOR_CATALOGUE=indicators.yaml, kostra.yaml beside it).
COPY indicators.yaml kostra.yaml ./

# The database (MONITOR_DB=var/monitor.db), the raw archive (var/raw) and backups (MONITOR_BACKUP_DIR=var/backups).
RUN mkdir -p /app/var && chown monitor:monitor /app/var
VOLUME ["/app/var"]

USER monitor
EXPOSE 8080

# /healthz answers 200 when the database and the scheduler are well; python -c, as the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]

# Create or migrate the database and load the baselines, then run; exec: SIGTERM from `docker stop` reaches monitor run.
CMD ["sh", "-c", "monitor init && exec monitor run --host 0.0.0.0 --port 8080"]
