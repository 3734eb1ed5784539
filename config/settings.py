"""Herald's one settings module, configured by environment variables.

Development defaults are safe to run on a laptop; with DEBUG off the process refuses to
start on an unsafe setting (a missing or development SECRET_KEY, no ALLOWED_HOSTS).
"""

import os
import zoneinfo
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
# An empty value is false, as it always was here: `DEBUG=` must never turn DEBUG on.
FALSE_VALUES = frozenset({"0", "false", "no", "off", ""})


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable; a value that is neither true nor false refuses to start.

    A typo such as `SECURE_COOKIES=ture` would otherwise read as False and turn a safety
    setting off without a word.
    """
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word not in TRUE_VALUES | FALSE_VALUES:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a boolean: use one of "
            "1, true, yes, on (true) or 0, false, no, off (false)."
        )
    return word in TRUE_VALUES


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

DEVELOPMENT_SECRET_KEY = "herald-development-key-not-for-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY):
    raise ImproperlyConfigured("Set SECRET_KEY to a long random value when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "axes",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "anymail",
    "campaigns",
    # Before django_tasks_db: its `db_worker` command shadows the library's (it waits for
    # the database instead of exiting).
    "channels",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Times in the signed-in person's zone (campaigns/preferences).
    "campaigns.preferences.middleware.TimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Repeated failed sign-ins (the login page and the admin's) lock out that username, and
# that address, for a while (django-axes). Unlock early with
# `manage.py axes_reset_username NAME` or `axes_reset_ip ADDRESS`, or in the admin.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("HERALD_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("HERALD_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.views.locked_out"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue on the busy timeout instead of failing on lock upgrade.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "campaigns:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# Uploads (SPEC 6: capped in size, refused with a clear message past it). A CSV of contacts
# for an import, a list of phones or emails marking conversions. A file past its cap is
# refused by its form; `config.uploads.CappedUploadHandler` stops storing it at the largest
# cap, so an oversized upload never fills the disk while the request is read.
HERALD_MAX_IMPORT_BYTES = int(os.environ.get("HERALD_MAX_IMPORT_BYTES", 100 * 1024 * 1024))
HERALD_MAX_CONVERSIONS_BYTES = int(
    os.environ.get("HERALD_MAX_CONVERSIONS_BYTES", 20 * 1024 * 1024)
)
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "config.uploads.CappedUploadHandler",
]

# HTTPS=1: Herald is served over TLS only (directly or behind a proxy that terminates it).
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG or HTTPS)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# A load balancer probes /health/ over plain HTTP: a redirect would read as "down".
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
# BEHIND_PROXY=1: a proxy terminates TLS and says so in X-Forwarded-Proto. Only set it when
# the proxy overwrites that header: a client could otherwise claim HTTPS over plain HTTP.
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The client's address for the sign-in lockout is the one the proxy saw.
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Only Herald's own files run or style a page: no inline script, handler or <style>, no
# remote origin (Chart.js and htmx are served from here). A stored-XSS payload that slips
# through escaping still cannot run. `data:` images: the blank favicon.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Every line is printed once, by the root's handler: Django's own "django" logger gets no
# handler of its own (by default it has a console one and propagates to the root too, which
# printed each worker and autoreloader line twice). A 403 is an answer, not a crash: its
# warning line is kept, its traceback dropped.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_403_traceback": {"()": "config.logging.WithoutPermissionTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"filters": ["no_403_traceback"]},
        "herald": {"level": os.environ.get("HERALD_LOG_LEVEL", "INFO"), "propagate": True},
    },
}

# Herald's own settings.
HERALD_DEFAULT_REGION = os.environ.get("HERALD_DEFAULT_REGION", "US")
# An import whose worker has not recorded a batch for this long is taken over by another
# worker from its last committed batch (its worker died, say).
HERALD_IMPORT_STALL_SECONDS = float(os.environ.get("HERALD_IMPORT_STALL_SECONDS", "60"))
# At most this many attribute columns become a contact's attributes; the rest are reported.
HERALD_MAX_ATTRIBUTES = int(os.environ.get("HERALD_MAX_ATTRIBUTES", "100"))
# The zone of a contact with no time zone and no phone number that implies one (SPEC 4b).
HERALD_DEFAULT_TIMEZONE = os.environ.get("HERALD_DEFAULT_TIMEZONE", "America/New_York")
if HERALD_DEFAULT_TIMEZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(
        f"HERALD_DEFAULT_TIMEZONE {HERALD_DEFAULT_TIMEZONE!r} is not an IANA zone."
    )


def env_kinds(name: str, default: str) -> dict[str, float]:
    """ "ai_voice=2,sms=0.05" -> {"ai_voice": 2.0, "sms": 0.05}."""
    pairs = (item.split("=", 1) for item in os.environ.get(name, default).split(",") if item)
    return {kind.strip(): float(value) for kind, value in pairs}


# Providers per channel kind (SPEC 4a): `simulated`, `smtp`, `anymail`, `twilio`, `vapi`, or
# a dotted path to a Provider class or a factory taking the kind.
HERALD_PROVIDER_VARIABLES = {
    "ai_voice": "HERALD_VOICE_PROVIDER",
    "sms": "HERALD_SMS_PROVIDER",
    "email": "HERALD_EMAIL_PROVIDER",
}
HERALD_PROVIDERS = {
    kind: os.environ.get(variable, "simulated")
    for kind, variable in HERALD_PROVIDER_VARIABLES.items()
}
# The address providers reach Herald at (webhooks, unsubscribe links): behind a TLS proxy,
# the public https:// address, so that signatures are checked against what the provider saw.
HERALD_PUBLIC_URL = os.environ.get("HERALD_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# Vapi (HERALD_VOICE_PROVIDER=vapi): outbound calls with an assistant; its server messages
# come to /webhooks/vapi/ carrying VAPI_WEBHOOK_SECRET in the X-Vapi-Secret header.
VAPI_API_KEY = os.environ.get("VAPI_API_KEY", "")
VAPI_ASSISTANT_ID = os.environ.get("VAPI_ASSISTANT_ID", "")
VAPI_PHONE_NUMBER_ID = os.environ.get("VAPI_PHONE_NUMBER_ID", "")
VAPI_WEBHOOK_SECRET = os.environ.get("VAPI_WEBHOOK_SECRET", "")
VAPI_BASE_URL = os.environ.get("VAPI_BASE_URL", "https://api.vapi.ai").rstrip("/")
VAPI_TIMEOUT = float(os.environ.get("VAPI_TIMEOUT", "10"))
# Twilio Programmable Messaging (HERALD_SMS_PROVIDER=twilio). A messaging service or a
# from number; TWILIO_API_BASE_URL points the SDK elsewhere (tests: a local server).
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "").rstrip("/")
TWILIO_TIMEOUT = float(os.environ.get("TWILIO_TIMEOUT", "10"))
# The answer to an inbound HELP (carriers require one).
HERALD_SMS_HELP_TEXT = os.environ.get(
    "HERALD_SMS_HELP_TEXT",
    "Herald campaign messages. Msg & data rates may apply. Reply STOP to unsubscribe.",
)
HERALD_SIMULATOR = {
    # Seconds from a send to its final outcome (a provider event): a call lasts seconds, a
    # text or an email is delivered in milliseconds. 0 answers the outcome at once.
    "latency": env_kinds("HERALD_SIMULATOR_LATENCY", "ai_voice=2,sms=0.05,email=0.02"),
    # Seconds one send call takes (a provider's API round trip).
    "send_latency": env_kinds("HERALD_SIMULATOR_SEND_LATENCY", ""),
    "error_rate": float(os.environ.get("HERALD_SIMULATOR_ERROR_RATE", "0.01")),
    "seed": int(os.environ.get("HERALD_SIMULATOR_SEED", "7")),
}
HERALD_ENGINE = {
    # Contacts claimed per transaction.
    "batch_size": int(os.environ.get("HERALD_BATCH_SIZE", "1000")),
    # How long one task works on a channel before it yields the worker to other channels.
    "slice_seconds": float(os.environ.get("HERALD_SLICE_SECONDS", "1")),
    # Parallel task chains per running channel (so several workers can share one channel).
    "lanes": int(os.environ.get("HERALD_LANES", "2")),
    # A claim not answered within this many seconds is `interrupted` (its worker died).
    "lease_seconds": float(os.environ.get("HERALD_LEASE_SECONDS", "60")),
    # How often the supervisor looks for stranded claims and channels no worker serves.
    "supervisor_seconds": float(os.environ.get("HERALD_SUPERVISOR_SECONDS", "5")),
    # Threads a worker uses for a slow provider (a voice channel uses max_concurrent).
    "send_threads": int(os.environ.get("HERALD_SEND_THREADS", "32")),
    # A provider that answers 429 gets no new send from that channel for this long.
    "rate_limit_pause": float(os.environ.get("HERALD_RATE_LIMIT_PAUSE", "5")),
    # A channel pauses itself when more than this share of its last `error_window` sends
    # failed at the provider (listmonk's error threshold); 0 turns it off.
    "error_threshold": float(os.environ.get("HERALD_ERROR_THRESHOLD", "0.5")),
    "error_window": int(os.environ.get("HERALD_ERROR_WINDOW", "50")),
}
# Seconds an accepted delivery waits for its final provider event before the supervisor
# closes it with its last known outcome (SPEC G4).
HERALD_OUTCOME_TIMEOUT = env_kinds("HERALD_OUTCOME_TIMEOUT", "ai_voice=1800,sms=3600,email=3600")


# Email (SPEC 4a). HERALD_EMAIL_PROVIDER=smtp sends through an SMTP server configured by the
# EMAIL_* variables; HERALD_EMAIL_PROVIDER=anymail through an ESP's API with django-anymail.
# Django 6.1 configures mail backends as MAILERS (its EMAIL_* settings are deprecated), so the
# variables keep Django's familiar names and fill the mailers' OPTIONS.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Herald <herald@localhost>")
SMTP_MAILER = {
    "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "OPTIONS": {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT") or 0) or None,  # 25, 587 with TLS, 465 SSL
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        # A server that stops answering must not hold a batch past its claims' lease.
        "timeout": float(os.environ.get("EMAIL_TIMEOUT", "30")),
    },
}
if SMTP_MAILER["OPTIONS"]["use_tls"] and SMTP_MAILER["OPTIONS"]["use_ssl"]:
    raise ImproperlyConfigured("Set at most one of EMAIL_USE_TLS and EMAIL_USE_SSL.")
# The ESP backend of django-anymail, e.g. anymail.backends.postmark.EmailBackend.
HERALD_ANYMAIL_BACKEND = os.environ.get("HERALD_ANYMAIL_BACKEND", "")
MAILERS = {"default": SMTP_MAILER, "smtp": SMTP_MAILER}
if HERALD_ANYMAIL_BACKEND:
    MAILERS["anymail"] = {"BACKEND": HERALD_ANYMAIL_BACKEND}


def env_anymail() -> dict:
    """Every ANYMAIL_<NAME> variable as ANYMAIL["<NAME>"]: ANYMAIL_POSTMARK_SERVER_TOKEN,
    ANYMAIL_MAILGUN_API_KEY, ANYMAIL_WEBHOOK_SECRET ("user:password") ... true and false
    become booleans (ANYMAIL_IGNORE_RECIPIENT_STATUS=false)."""
    words = {"true": True, "false": False}
    return {
        name.removeprefix("ANYMAIL_"): words.get(value.strip().lower(), value)
        for name, value in os.environ.items()
        if name.startswith("ANYMAIL_") and name != "ANYMAIL_"
    }


ANYMAIL = env_anymail()
# The mailto: half of every email's List-Unsubscribe header (the https: half is a signed
# one-click link under HERALD_PUBLIC_URL).
HERALD_UNSUBSCRIBE_MAILTO = os.environ.get(
    "HERALD_UNSUBSCRIBE_MAILTO",
    "unsubscribe@" + (urlsplit(HERALD_PUBLIC_URL).hostname or "localhost"),
)
