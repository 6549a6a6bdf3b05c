"""The HTTP server: HTTP/1.1 persistent connections, exact Content-Length, faults still end the connection."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlparse

import httpx
import pytest


def _conn(sandbox) -> http.client.HTTPConnection:
    url = urlparse(sandbox.url)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=10)


def _auth(sandbox) -> dict:
    return {"Authorization": f"Bearer {sandbox.token()}", "Accept": "application/json"}


def test_one_connection_carries_many_requests(sandbox):
    conn = _conn(sandbox)
    headers = _auth(sandbox)
    conn.request("GET", "/3.0/users/me", headers=headers)
    first = conn.getresponse()
    assert first.version == 11
    assert first.getheader("Connection") is None  # not "close"
    body = first.read()
    assert int(first.getheader("Content-Length")) == len(body)
    sock = conn.sock
    assert sock is not None  # http.client keeps the socket only for a persistent answer
    for path in ("/2.0/contact/2", "/2.0/kb_invoice", "/3.0/taxes"):
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        assert resp.status == 200
        json.loads(resp.read())
        assert conn.sock is sock  # the same TCP connection
    conn.close()


def test_unread_request_body_does_not_poison_the_next_request(sandbox):
    """A `before` fault answers without reading the body; the body must not become the next request."""
    sandbox.fault(method="POST", path=r"^/2\.0/contact/search$", effect="status:503", times=1)
    conn = _conn(sandbox)
    headers = {**_auth(sandbox), "Content-Type": "application/json"}
    payload = json.dumps([{"field": "name_1", "value": "x" * 5000}])
    conn.request("POST", "/2.0/contact/search", body=payload, headers=headers)
    resp = conn.getresponse()
    assert resp.status == 503
    resp.read()
    conn.request("GET", "/3.0/users/me", headers=headers)
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.read().startswith(b"{")
    conn.close()


def test_chunked_request_body_and_keep_alive(sandbox):
    conn = _conn(sandbox)
    headers = {**_auth(sandbox), "Content-Type": "application/json", "Content-Length": "0"}
    body = json.dumps([{"field": "name_1", "value": "Muster"}]).encode()
    # http.client sends a chunked body for an iterable without a length
    headers.pop("Content-Length")
    conn.request("POST", "/2.0/contact/search", body=iter([body]), headers=headers, encode_chunked=True)
    resp = conn.getresponse()
    resp.read()
    # the API wants a Content-Length on POST (411, as bexio); the connection stays usable
    assert resp.status == 411
    conn.request("GET", "/3.0/users/me", headers=headers)
    assert conn.getresponse().status == 200
    conn.close()


def test_connection_close_is_honoured(sandbox):
    url = urlparse(sandbox.url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as s:
        s.sendall(b"GET /_sandbox/companies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk  # ends: the server closed the connection
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Connection: close" in head
    length = int(
        [h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0].split(b":")[1]
    )
    assert length == len(body)


@pytest.mark.parametrize("effect", ["drop", "timeout"])
def test_faults_end_a_reused_connection(sandbox, effect):
    sandbox.settings(timeout_hold_s=0.3)
    sandbox.fault(path=r"^/3\.0/users/me$", effect=effect, times=1)
    with httpx.Client(base_url=sandbox.url, headers=_auth(sandbox), timeout=5) as client:
        assert client.get("/2.0/contact/2").status_code == 200  # opens the pooled connection
        with pytest.raises(httpx.TransportError):
            client.get("/3.0/users/me")
        assert client.get("/3.0/users/me").status_code == 200  # a fresh connection works
    log = sandbox.requests()
    assert any(e["path"] == "/3.0/users/me" and e["status"] == 0 and e.get("fault") == effect for e in log)


def test_http_1_0_closes_and_head_has_the_get_length(sandbox):
    url = urlparse(sandbox.url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as s:
        s.sendall(b"GET /_sandbox/companies HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200") and b"Connection: close" in data.partition(b"\r\n\r\n")[0]
    get = httpx.get(sandbox.url + "/_sandbox/companies")
    head = httpx.head(sandbox.url + "/_sandbox/companies")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
