"""Keep OAuth secrets out of logs: the `code` and `state` bexio sends back to /bexio/callback.

Two places write request lines: Django's own loggers (runserver's `django.server`, warnings of
`django.request`) and gunicorn's access log (what `make run` and the README's production example
print). `RedactOAuthParams` is a logging filter (settings LOGGING puts it on the console handler);
`GunicornLogger` is gunicorn's logger with the same redaction of the request line, query string
and referer: start gunicorn with `--logger-class aeroledger.logs.GunicornLogger`.
"""

import logging
import re

from gunicorn.glogging import Logger

SECRET_PARAMS = ("code", "state", "session_state", "id_token", "access_token", "refresh_token")
# name=value, also URL-encoded inside another parameter (the login page's ?next=/bexio/callback%3Fcode%3D...)
_PARAM = re.compile(
    r"(?i)(?:(?<![A-Za-z0-9_%])|(?<=%3F)|(?<=%26))("
    + "|".join(SECRET_PARAMS)
    + r")(=|%3D)((?:(?!%26)[^&\s\"'])*)"
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """'...?code=abc&state=xyz&x=1' -> '...?code=[redacted]&state=[redacted]&x=1'."""
    return _PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text) if text else text


class RedactOAuthParams(logging.Filter):
    """Rewrites a record's message with the OAuth parameters' values replaced by [redacted]."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logged as it is
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class GunicornLogger(Logger):
    """gunicorn's logger, with OAuth parameters redacted in the access log's atoms."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        for key in list(atoms):
            if key.startswith("{referer}") and isinstance(atoms[key], str):
                atoms[key] = redact(atoms[key])
        return atoms
