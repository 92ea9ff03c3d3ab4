"""The session schemathesis fuzzes with: an owner signed in and re-authenticated, signed in again
whenever a fuzzed request ended the session (sign-out, a settings change, an idle timeout).

It signs in from 127.0.0.2, so that the fuzzer's own wrong passwords from 127.0.0.1 close only
that address, as latch's per-address limit says they should.
"""

import http.client
import json
import os
import threading
import time

import schemathesis

PORT = int(os.environ["LATCH_FUZZ_PORT"])
EMAIL = os.environ["LATCH_FUZZ_EMAIL"]
PASSWORD = os.environ["LATCH_FUZZ_PASSWORD"]
REAUTHENTICATE_EVERY = 8 * 60  # latch's re-authentication holds 10 minutes

_lock = threading.Lock()
_state = {"cookie": None, "reauthenticated_at": 0.0}


def _call(method, path, body=None, cookie=None):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10, source_address=("127.0.0.2", 0))
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = f"latch_session={cookie}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    response.read()
    fresh = None
    for name, value in response.getheaders():
        if name.lower() == "set-cookie" and value.startswith("latch_session="):
            fresh = value.split(";", 1)[0].split("=", 1)[1] or None
    conn.close()
    return response.status, fresh


@schemathesis.auth(refresh_interval=None)
class LatchSession:
    def get(self, case, ctx):
        with _lock:
            cookie = _state["cookie"]
            if cookie is None or _call("GET", "/api/v1/me", cookie=cookie)[0] != 200:
                status, fresh = _call("POST", "/api/v1/session", {"email": EMAIL, "password": PASSWORD})
                cookie = fresh if status == 200 else cookie
                _state["reauthenticated_at"] = 0.0
            if cookie and time.monotonic() - _state["reauthenticated_at"] > REAUTHENTICATE_EVERY:
                status, fresh = _call("POST", "/api/v1/session/reauthenticate", {"password": PASSWORD}, cookie)
                if status == 200 and fresh:
                    cookie = fresh
                    _state["reauthenticated_at"] = time.monotonic()
            _state["cookie"] = cookie
            return cookie

    def set(self, case, data, ctx):
        if data:
            case.headers = {**(case.headers or {}), "Cookie": f"latch_session={data}"}
