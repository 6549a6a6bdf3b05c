"""A threaded HTTP/1.1 server (werkzeug's), quiet, with socket access for the drop/timeout faults."""

from __future__ import annotations

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler


class QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs):  # the sandbox keeps its own request log
        pass

    def log(self, type, message, *args):  # noqa: A002
        if type == "error":
            super().log(type, message, *args)

    def version_string(self):
        return "bexio-sandbox"


def make_server(host: str, port: int, app) -> BaseWSGIServer:
    server = ThreadedWSGIServer(host, port, app, handler=QuietHandler)
    server.daemon_threads = True
    server.request_queue_size = 128
    return server
