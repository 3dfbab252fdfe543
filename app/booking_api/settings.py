"""Settings for the booking API, read only from the environment.

Every value has a safe default except ``DJANGO_SECRET_KEY``, which must be set. ``DEBUG`` is off
unless the environment asks for it. See README.md for the full list of variables.
"""

from __future__ import annotations

from pathlib import Path

import environ
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# --- Core -----------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# The image's source revision (the Dockerfile bakes the git commit in): /health/ reports it, so a
# load balancer's clients (and the release's traffic checks) see which release answered.
REVISION = env.str("BOOKING_REVISION", default="unknown")
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Behind the ALB, TLS ends at the load balancer, which sets X-Forwarded-Proto.
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

ROOT_URLCONF = "booking_api.urls"
WSGI_APPLICATION = "booking_api.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "user.User"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "django_dramatiq",
    "waffle",
    "user",
    "address",
    "salon",
    "appointment",
    "notification",
    "flag",
    "dataimport",
    "recovery",
]

MIDDLEWARE = [
    # First: answers /health/ before ALLOWED_HOSTS validation and without the database.
    "booking_api.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# django-environ reads the URL lazily at connection time, so collectstatic in the image build
# works without a reachable database.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/booking"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# --- Redis / Dramatiq -----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=1.0)

DRAMATIQ_BROKER = {
    "BROKER": "dramatiq.brokers.redis.RedisBroker",
    "OPTIONS": {"url": REDIS_URL},
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
    ],
}
DRAMATIQ_TASKS_DATABASE = "default"
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]

# Shared by all processes: allauth's rate limits must count across gunicorn workers and tasks.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "booking",
        # A Redis that hangs (rather than refusing connections) must not hang every request
        # with it: give up after REDIS_SOCKET_TIMEOUT seconds. The availability cache then
        # computes without it; allauth's rate limits fail the request instead of holding a
        # worker thread until gunicorn kills it.
        "OPTIONS": {
            "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
            "socket_timeout": REDIS_SOCKET_TIMEOUT,
        },
    }
}

# Availability answers cached per salon, service, day and staff (appointment/availability_cache.py);
# invalidated on commit of every write, the TTL is a safety net for writes that bypass signals.
AVAILABILITY_CACHE_ENABLED = env.bool("AVAILABILITY_CACHE_ENABLED", default=True)
AVAILABILITY_CACHE_SECONDS = env.int("AVAILABILITY_CACHE_SECONDS", default=300)

# Feature flags (flag/): django-waffle with the project's flag model, cached in CACHES["default"]
# and flushed on every change. Waffle's own admin pages (and its unused switches and samples)
# stay off: flag/admin.py registers the flags for platform admins.
WAFFLE_FLAG_MODEL = "flag.Flag"
WAFFLE_ENABLE_ADMIN_PAGES = False
# Waffle's migrations create its own flag tables even when WAFFLE_FLAG_MODEL replaces the model
# (django-waffle issue 338); their foreign key to user_user breaks TRUNCATE (manage.py flush,
# transactional tests). The project's flag model has its own migrations (flag/migrations/).
MIGRATION_MODULES = {"waffle": None}

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# WhiteNoise keeps only the hashed names (the ones {% static %} links to with manifest
# storage): the unhashed copies would double the static files in the image. Source maps are
# fetched only by browser developer tools: stored uncompressed.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# --- Auth (django-allauth headless, JWT) ---------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Mandatory verification by code with the JWT strategy hit an allauth assertion (issue 4232);
# email verification is optional, phone verification happens by SMS code in our own API.
ACCOUNT_EMAIL_VERIFICATION = env.str("DJANGO_ACCOUNT_EMAIL_VERIFICATION", default="none")
ACCOUNT_ADAPTER = "user.adapters.AccountAdapter"
# Behind the ALB the client address is the last hop of X-Forwarded-For (1 trusted proxy).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
HEADLESS_ONLY = True
HEADLESS_CLIENTS = ("app",)
# allauth's own OpenAPI document for the auth endpoints: /_allauth/openapi.json (and .yaml).
HEADLESS_SERVE_SPECIFICATION = True
HEADLESS_SPECIFICATION_TEMPLATE_NAME = None  # no HTML page pulling Redoc from a CDN
HEADLESS_TOKEN_STRATEGY = "allauth.headless.tokens.strategies.jwt.JWTTokenStrategy"
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": env.str(
        "FRONTEND_URL_CONFIRM_EMAIL", default="http://localhost:3000/account/verify-email/{key}"
    ),
    "account_reset_password_from_key": env.str(
        "FRONTEND_URL_RESET_PASSWORD", default="http://localhost:3000/account/password/reset/{key}"
    ),
    "account_signup": env.str("FRONTEND_URL_SIGNUP", default="http://localhost:3000/signup"),
}
_jwt_private_key = env.str("DJANGO_JWT_PRIVATE_KEY", default="")
if _jwt_private_key:
    HEADLESS_JWT_ALGORITHM = "RS256"
    HEADLESS_JWT_PRIVATE_KEY = _jwt_private_key.replace("\\n", "\n")
else:  # signed with SECRET_KEY
    HEADLESS_JWT_ALGORITHM = "HS256"
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = env.int("JWT_ACCESS_TOKEN_EXPIRES_IN", default=300)
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = env.int("JWT_REFRESH_TOKEN_EXPIRES_IN", default=86400)
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = True  # logout revokes access tokens

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="no-reply@booking.invalid")

# --- REST framework / OpenAPI ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "allauth.headless.contrib.rest_framework.authentication.JWTTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # drf-spectacular's, plus the error responses and time-of-day fields (booking_api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "booking_api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "booking_api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "Booking API",
    "DESCRIPTION": "Salons, staff, services, availability and appointments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Path parameters as Django's converters match them: other values (-1, a name with a "/")
    # never reach the API and get Django's HTML 404, which the schema cannot describe.
    "PATH_CONVERTER_OVERRIDES": {
        "int": {"type": "integer", "minimum": 0},
        "str": {"type": "string", "pattern": "^[^/]+$"},
    },
}

# --- SMS ------------------------------------------------------------------------------------
TWILIO_SID = env.str("TWILIO_SID", default="")
TWILIO_TOKEN = env.str("TWILIO_TOKEN", default="")
TWILIO_PHONE_NUMBER = env.str("TWILIO_PHONE_NUMBER", default="")
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default=(
        "notification.backends.TwilioBackend"
        if TWILIO_SID and TWILIO_TOKEN
        else "notification.backends.ConsoleBackend"
    ),
)
SMS_REMINDER_BEFORE_MINUTES = env.int("SMS_REMINDER_BEFORE_MINUTES", default=24 * 60)
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="") or None

# --- Logging: JSON lines on stdout ----------------------------------------------------------
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "booking_api.logging.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.security.DisallowedHost": {"level": "WARNING"},
    },
}
