# The booking API's image: one image for the web server (default command), the Dramatiq worker
# and migrations (command overrides). See README.md, "Container image".
#
# BASE_IMAGE is python:3.11-slim in real CI. Where Docker Hub is unreachable,
# tools/container/base-image.sh makes localhost/debian:bookworm-slim instead; that base has no
# Python under /usr/local, so the same steps install Debian's python3 (3.11) with apt. Either
# way the dependencies live in a venv at /opt/venv.
ARG BASE_IMAGE=python:3.11-slim

# --- builder: compilers and headers, builds the venv ----------------------------------------
FROM ${BASE_IMAGE} AS builder

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV LANG=C.UTF-8 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Versions come from the base's Debian release (security updates replace exact revisions, so
# pinning them would break the build within weeks).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \
    && if [ ! -x /usr/local/bin/python3 ]; then \
         apt-get install -y --no-install-recommends python3 python3-dev python3-venv; \
       fi \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv

COPY app/requirements.txt /tmp/requirements.txt
# Where outbound HTTPS is intercepted, the host's CA bundle comes in as an optional build
# secret (never a layer): --secret id=pip_ca,src=/etc/ssl/certs/ca-certificates.crt.
# pip and setuptools are not needed at run time; translation sources (*.po, 14 MB) neither:
# gettext reads the compiled *.mo files, which stay.
RUN --mount=type=secret,id=pip_ca,required=false \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi \
    && /opt/venv/bin/pip install -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall -y -q pip setuptools \
    && find /opt/venv -name '*.po' -delete

# --- runtime: Python, libpq and the venv; no compilers --------------------------------------
FROM ${BASE_IMAGE} AS runtime

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV LANG=C.UTF-8 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=booking_api.settings

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && if [ ! -x /usr/local/bin/python3 ]; then \
         apt-get install -y --no-install-recommends python3; \
       fi \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 1000 --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# Code and static files stay root-owned: the app user reads them and writes nothing here.
COPY app/ /app/
# Needs neither database nor Redis (settings read the database URL lazily).
RUN DJANGO_SECRET_KEY=dummy python manage.py collectstatic --noinput -v 0 \
    && python -m compileall -q -j 0 /app

ARG GIT_SHA=unknown
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="booking-api" \
      org.opencontainers.image.description="Django booking API: gunicorn web, Dramatiq worker, migrations" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.revision="${GIT_SHA}"

USER 1000:1000
EXPOSE 8000
# Python, not curl (neither base has curl). GUNICORN_BIND may move the port; the check follows.
HEALTHCHECK --interval=30s --timeout=3s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('GUNICORN_BIND', ':8000').rsplit(':', 1)[1]; urllib.request.urlopen(f'http://127.0.0.1:{port}/health/', timeout=2)"]

# exec form: gunicorn is PID 1 and gets SIGTERM (graceful stop, exit 0). gunicorn.conf.py sets
# bind 0.0.0.0:8000, 3 workers x 2 threads, timeout 120 s, keep-alive 75 s (> ALB idle 60 s),
# each overridable by GUNICORN_* variables.
# Worker:     python manage.py rundramatiq --processes 1 --threads 4
# Migrations: python manage.py migrate --noinput
CMD ["gunicorn", "--config", "gunicorn.conf.py", "booking_api.wsgi:application"]
