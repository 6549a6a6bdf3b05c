"""A threaded HTTP/1.1 server (werkzeug's) with persistent connections, quiet, with socket access for
the drop/timeout faults.

werkzeug's own handler always answers `Connection: close` (its dev server cannot drain a request body
before reading the next request line). This handler runs the WSGI app itself: the request body is
read through a stream limited to its `Content-Length` (or de-chunked), whatever the app leaves unread
is drained afterwards, and the answer goes out in one write with an exact `Content-Length`, so the
connection can carry the next request. A `drop`/`timeout` fault shuts the socket down and ends the
connection; so do `Connection: close`, HTTP/1.0 requests without keep-alive, unreadable bodies and
errors.
"""

from __future__ import annotations

import socket
import time
import traceback
from email.utils import formatdate

from werkzeug.serving import BaseWSGIServer, DechunkedInput, ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

IDLE_TIMEOUT_S = 120  # an idle keep-alive connection is closed after this
NO_BODY = {204, 304}


class QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S

    def setup(self) -> None:
        super().setup()
        try:  # answers go out in one write; no Nagle delay on the next small one
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_request(self, *args, **kwargs):  # the sandbox keeps its own request log
        pass

    def log(self, type, message, *args):  # noqa: A002
        if type == "error":
            super().log(type, message, *args)

    def version_string(self):
        return "bexio-sandbox"

    # one request on a persistent connection ------------------------------------------------------
    def _request_body(self, environ) -> LimitedStream | DechunkedInput | None:
        """Bound wsgi.input to this request's body; None when its end cannot be known."""
        if environ.get("wsgi.input_terminated"):  # chunked: make_environ wrapped it already
            return environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH", "")
        if not length:
            if self.command in ("POST", "PUT", "PATCH"):
                return None  # a body without a length: unknown end, close after the answer
            length = "0"
        try:
            size = int(length)
        except ValueError:
            return None
        if size < 0:
            return None
        stream = LimitedStream(self.rfile, size)
        environ["wsgi.input"] = stream
        environ["wsgi.input_terminated"] = True
        return stream

    @staticmethod
    def _drain(stream) -> bool:
        """Read what the app left of the request body; False if that failed."""
        if stream is None:
            return False
        try:
            if isinstance(stream, LimitedStream):
                stream.exhaust()
            else:
                while stream.read(65536):
                    pass
        except (OSError, ValueError):
            return False
        return True

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        stream = self._request_body(environ)
        state: dict = {}

        def start_response(status, headers, exc_info=None):
            if exc_info and state.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            state["status"], state["headers"] = status, headers
            return state.setdefault("chunks", []).append

        try:
            result = self.server.app(environ, start_response)
            try:
                body = b"".join([*state.get("chunks", []), *result])
            finally:
                if hasattr(result, "close"):
                    result.close()
        except ConnectionError:  # a drop/timeout fault (socket shut down) or the client went away
            self.close_connection = True
            return
        except Exception:  # noqa: BLE001 (like werkzeug: log it, answer 500, close)
            self.close_connection = True
            self.log("error", "Error on request %s %s:\n%s", self.command, self.path, traceback.format_exc())
            state = {"status": "500 INTERNAL SERVER ERROR", "headers": [("Content-Type", "text/plain")]}
            body = b"Internal Server Error"
        if not self._drain(stream):
            self.close_connection = True
        self._send(state["status"], state["headers"], body)

    def _send(self, status: str, headers, body: bytes) -> None:
        code = int(status.split(None, 1)[0])
        lines = [f"{self.protocol_version} {status}", f"Server: {self.version_string()}"]
        lines.append(f"Date: {formatdate(time.time(), usegmt=True)}")
        length = None
        for key, value in headers:
            low = key.lower()
            if low in ("connection", "transfer-encoding", "keep-alive"):
                continue
            if low == "content-length":
                length = value
                continue
            lines.append(f"{key}: {value}")
        if self.command == "HEAD":
            body = b""
            if length is not None:
                lines.append(f"Content-Length: {length}")
        elif code in NO_BODY or 100 <= code < 200:
            body = b""
        else:
            lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.wfile.write(head + body)
        except OSError:
            self.close_connection = True


def make_server(host: str, port: int, app) -> BaseWSGIServer:
    server = ThreadedWSGIServer(host, port, app, handler=QuietHandler)
    server.daemon_threads = True
    server.request_queue_size = 128
    return server
