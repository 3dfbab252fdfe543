# The booking API's image: one image for the web server (default command), the Dramatiq worker
# and migrations (command overrides). See docs/container-image.md.
#
# BASE_IMAGE is python:3.11-slim in real CI. Where Docker Hub is unreachable,
# tools/container/base-image.sh makes localhost/debian:bookworm-slim instead; that base has no
# Python under /usr/local, so the same steps install Debian's python3 (3.11) with apt. Either
# way the dependencies live in a venv at /opt/venv.
#
# Stages: builder (the venv, trimmed) -> static (collectstatic with the full venv) and venv (the
# venv without the apps' static/ folders) -> runtime (Python, the trimmed venv, the app, the
# collected static files); pgclient (pg_dump, pg_restore and their libraries) -> runtime. The
# image runs with a read-only root file system (ECS: readonlyRootFilesystem, a writable volume
# on /tmp): nothing at run time writes outside /tmp
# and /dev/shm (gunicorn's heartbeat files). XDG_RUNTIME_DIR=/tmp puts gunicorn's control
# socket (gunicornc, gunicorn >= 25.1) in /tmp; its default, ~/.gunicorn, is /app/.gunicorn.
# /tmp is declared a VOLUME, root-owned with mode 1777: see the runtime stage.
#
# The base is pinned by digest (the tag's manifest list); `make pin-base-image` re-pins it to
# what the tag points to now, Renovate proposes the same (docs/dependencies.md). The digest
# here came from public references to python:3.11-slim: this machine has no route to Docker Hub.
ARG BASE_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

# --- builder: compilers and headers, builds the venv ----------------------------------------
# checkov:skip=CKV_DOCKER_7: checkov reads FROM without resolving the ARG; BASE_IMAGE above is pinned by digest (tests/test_dependency_updates.py holds it to that)
FROM ${BASE_IMAGE} AS builder

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV LANG=C.UTF-8 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Versions come from the base's Debian release (security updates replace exact revisions, so
# pinning them would break the build within weeks). gcc for any source distribution (and its
# binutils for strip below); no libpq-dev: psycopg[binary] brings its own libpq.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && if [ ! -x /usr/local/bin/python3 ]; then \
         apt-get install -y --no-install-recommends python3 python3-dev python3-venv; \
       fi \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv

COPY app/requirements.txt /tmp/requirements.txt
# Where outbound HTTPS is intercepted, the host's CA bundle comes in as an optional build
# secret (never a layer): --secret id=pip_ca,src=/etc/ssl/certs/ca-certificates.crt.
#
# What goes after the install, each unused by the app (sizes uncompressed, measured):
# - byte code: --no-compile, and no __pycache__ (73 MB for every module of every package); the
#   runtime stage compiles only what the processes import (see there).
# - aiohttp and its dependencies (11 MB): twilio needs them only for its asyncio client
#   (twilio/http/async_http_client.py); the app sends with the synchronous TwilioHttpClient.
# - pip, setuptools: not needed at run time.
# - translations (*.po sources, 14 MB; *.mo catalogs other than English, 10 MB): MIDDLEWARE has
#   no LocaleMiddleware and nothing calls translation.activate(), so every process runs in
#   LANGUAGE_CODE (en-us); tests/container/test_image.py checks the settings in the image.
# - twilio's REST products other than api/ (19 MB): Client loads each product lazily on
#   first use, and the app uses only client.messages (api/v2010). The image's SMS path is
#   checked by tests/container/test_image.py.
# - django/contrib/gis: not in INSTALLED_APPS, and the database engine is postgresql.
# - packages' own test suites (top-level tests/ folders: jsonschema, referencing, certifi, ...).
# - symbols of the packages' extension modules (strip --strip-unneeded, 6 MB: cryptography,
#   PyYAML, rpds); not the auditwheel-bundled libraries in *.libs/. The runtime stage imports
#   every extension module, so a broken one fails the build.
RUN --mount=type=secret,id=pip_ca,required=false \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi \
    && /opt/venv/bin/pip install --no-compile -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall -y -q aiohttp aiohttp-retry aiohappyeyeballs aiosignal \
         frozenlist multidict propcache yarl \
    && /opt/venv/bin/pip uninstall -y -q pip setuptools \
    && site=$(echo /opt/venv/lib/python3*/site-packages) \
    && find /opt/venv -name '*.po' -delete \
    && find "$site" -path '*/locale/*/LC_MESSAGES/*.mo' \
         -not -path '*/locale/en/*' -not -path '*/locale/en_*' -delete \
    && find "$site" -path '*/locale/*' -type d -empty -delete \
    && find "$site/twilio/rest" -mindepth 1 -maxdepth 1 -type d -not -name api -exec rm -rf {} + \
    && rm -rf "$site/django/contrib/gis" \
    && find "$site" -mindepth 2 -maxdepth 2 -type d -name tests -exec rm -rf {} + \
    && find "$site" -name '*.so' -not -path '*.libs/*' -exec strip --strip-unneeded {} + \
    && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +

# --- static: collectstatic with the full venv (the apps' static/ folders serve only this) ----
FROM builder AS static
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=booking_api.settings
WORKDIR /app
COPY app/ /app/
# Needs neither database nor Redis (settings read the database URL lazily). WhiteNoise keeps
# only the hashed names (WHITENOISE_KEEP_ONLY_HASHED_FILES). Left out: Redoc (6 MB; urls.py
# serves Swagger UI only) and the browsable API's assets (2 MB; settings.py adds
# BrowsableAPIRenderer only when DEBUG, and DEBUG serves from the apps' folders, not from here).
RUN DJANGO_SECRET_KEY=dummy python manage.py collectstatic --noinput -v 0 \
      --ignore 'drf_spectacular_sidecar/redoc/*' --ignore 'rest_framework/*'

# --- venv: the builder's venv without the apps' static/ folders (13 MB, collected above) -----
FROM builder AS venv
RUN find /opt/venv/lib/python3*/site-packages -type d -name static -prune -exec rm -rf {} +

# --- pgclient: pg_dump and pg_restore for manage.py import_database (docs/cutover.md) -------
# Debian bookworm's postgresql-client-15 (pg_dump must be at least the source server's major
# version; the RDS target runs 15). Installed whole it would bring Perl (its pg_wrapper scripts,
# about 50 MB); the runtime takes only the two programs and the shared libraries the runtime
# does not have already (libpq and its Kerberos, LDAP and GnuTLS dependencies), into
# /usr/local/bin and /usr/local/lib. This stage first installs what the runtime stage installs
# on the same base, so that "does not have already" is the runtime's view.
FROM ${BASE_IMAGE} AS pgclient
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN apt-get update \
    && if [ ! -x /usr/local/bin/python3 ]; then \
         apt-get install -y --no-install-recommends python3; \
       fi \
    && ldconfig && ldconfig -p | awk 'NR > 1 {print $1}' | sort -u > /tmp/libraries-before \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && mkdir -p /out/bin /out/lib \
    && cp /usr/lib/postgresql/15/bin/pg_dump /usr/lib/postgresql/15/bin/pg_restore /out/bin/ \
    && ldd /out/bin/pg_dump /out/bin/pg_restore | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' \
       | sort -u | while read -r soname path; do \
           if ! grep -qxF "$soname" /tmp/libraries-before; then cp -L "$path" /out/lib/; fi; \
         done \
    && rm -rf /var/lib/apt/lists/*

# --- runtime: Python and the venv; no compilers ---------------------------------------------
FROM ${BASE_IMAGE} AS runtime

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV LANG=C.UTF-8 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=booking_api.settings \
    XDG_RUNTIME_DIR=/tmp

# No libpq5: psycopg[binary] loads the libpq bundled in its wheel (psycopg_binary.libs).
# A system CA store, whatever the base (python:3.11-slim has one, a debootstrap minbase has
# none): the app verifies TLS to ElastiCache (rediss://, redis-py uses the system store) - with
# no store every Redis call fails "unable to get local issuer certificate", as the local
# rehearsal showed. (Twilio's client trusts certifi's bundle.)
# /tmp root-owned with mode 1777 (sticky, world-writable), whatever the base: the VOLUME below
# hands this owner and mode to the /tmp volume on Fargate.
# hadolint ignore=DL3008,SC2086
RUN missing=""; \
    if [ ! -x /usr/local/bin/python3 ]; then missing="python3"; fi; \
    if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then missing="$missing ca-certificates"; fi; \
    if [ -n "$missing" ]; then \
         apt-get update \
         && apt-get install -y --no-install-recommends $missing \
         && rm -rf /var/lib/apt/lists/*; \
       fi \
    && useradd --uid 1000 --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin app \
    && chown root:root /tmp \
    && chmod 1777 /tmp

COPY --from=venv /opt/venv /opt/venv
COPY --from=pgclient /out/bin/ /usr/local/bin/
COPY --from=pgclient /out/lib/ /usr/local/lib/
WORKDIR /app
# Code and static files stay root-owned: the app user reads them and writes nothing here.
COPY app/ /app/
COPY --from=static /app/staticfiles /app/staticfiles
# Byte code for what the processes import at start (13 MB of the 73): settings, URLconf and
# views (manage.py check), the WSGI app, gunicorn's gthread worker, the PostgreSQL backend, the
# Dramatiq worker and its tasks, migrations; and every extension module (a stripped one that no
# longer loads fails here). The rest (twilio's API client, on the worker's first SMS) compiles
# in memory when first imported: at run time nothing may write byte code (read-only root).
# ldconfig: the PostgreSQL client's libraries in /usr/local/lib (ld.so.conf has it, the cache
# must list them); pg_dump and pg_restore must start (a missing library fails the build).
RUN ldconfig && pg_dump --version && pg_restore --version \
    && export DJANGO_SECRET_KEY=dummy PYTHONDONTWRITEBYTECODE= \
    && python manage.py check -v 0 \
    && python -c "import booking_api.wsgi, django.db.backends.postgresql.base, \
gunicorn.app.wsgiapp, gunicorn.workers.gthread, gunicorn.glogging, dramatiq.cli, \
dramatiq.brokers.redis, django_dramatiq.setup, django_dramatiq.tasks, \
django_dramatiq.management.commands.rundramatiq, notification.tasks; \
from django.db.migrations.loader import MigrationLoader; MigrationLoader(None)" \
    && PYTHONDONTWRITEBYTECODE=1 python -c "import importlib, pathlib, sysconfig, psycopg; \
root = pathlib.Path(sysconfig.get_paths()['purelib']); \
[importlib.import_module('.'.join(p.relative_to(root).with_name(p.name.split('.')[0]).parts)) \
 for p in sorted(root.rglob('*.so'))]" \
    && python -m compileall -q -j 0 /app

# /tmp as a VOLUME, after the last RUN (a build step's writes to a declared volume are
# discarded). roles/ecs_service mounts the task volume "tmp" (no host path: on Fargate a bind
# mount of the task's ephemeral storage) at /tmp, with a read-only root and uid 1000. AWS, "Use
# bind mounts with Amazon ECS", Considerations
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html#bind-mount-considerations):
# the ECS data plane looks for a VOLUME directive whose path equals the mount's containerPath
# and copies the image's data there into the volume, and the Dockerfile sets its owner and
# permissions; without one, the volume is empty, owned by root, mode 0755, so uid 1000 cannot
# write /tmp (tempfile raises "No usable temporary directory", gunicorn gets no control
# socket). Also aws/containers-roadmap#938, govuk-forms/forms-api#764. Docker, podman and
# Compose give each container an anonymous volume here, initialised the same way.
VOLUME ["/tmp"]

ARG GIT_SHA=unknown
ARG SOURCE_URL=""
# /health/ reports it (settings.REVISION): which release answered, seen from outside.
ENV BOOKING_REVISION="${GIT_SHA}"
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
# Data import: python manage.py import_database (pg_dump/pg_restore; playbooks/migrate-data.yml)
CMD ["gunicorn", "--config", "gunicorn.conf.py", "booking_api.wsgi:application"]
