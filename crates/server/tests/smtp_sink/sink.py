"""A real SMTP server for latch's tests: aiosmtpd, which nobody here wrote, takes each message,
and Python's own email parser reads its MIME. Each message taken becomes one JSON file in the
folder given; the file `mode` there says how the next message is answered: `accept` (the
default), `refuse` (a permanent 550), `defer` (a transient 451) or `slow:SECONDS`.

    python sink.py PORT FOLDER [USER PASSWORD [starttls|implicit CERT KEY]]

With `starttls` the server offers STARTTLS and requires it; with `implicit` it speaks TLS from
the first byte.
"""

import asyncio
import email
import email.policy
import json
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    def mode(self):
        try:
            with open(os.path.join(self.folder, "mode")) as f:
                return f.read().strip() or "accept"
        except FileNotFoundError:
            return "accept"

    async def handle_DATA(self, server, session, envelope):
        mode = self.mode()
        if mode == "refuse":
            return "550 5.7.1 Refused by the test's mail server"
        if mode == "defer":
            return "451 4.3.0 The test's mail server says: try again later"
        if mode.startswith("slow:"):
            await asyncio.sleep(float(mode.split(":", 1)[1]))
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = []
        for part in message.walk():
            if part.is_multipart():
                continue
            parts.append({"type": part.get_content_type(), "body": part.get_content()})
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": session.auth_data.decode() if isinstance(session.auth_data, bytes) else None,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "content_type": message.get_content_type(),
            "auto_submitted": str(message["Auto-Submitted"]),
            "message_id": str(message["Message-ID"]),
            "parts": parts,
        }
        self.count += 1
        path = os.path.join(self.folder, f"{self.count:05}.json")
        with open(path + ".part", "w") as f:
            json.dump(record, f)
        os.rename(path + ".part", path)
        return "250 2.0.0 Taken"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password:
            return AuthResult(success=True, auth_data=auth_data.login)
        return AuthResult(success=False, handled=False)

    return check


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    options = {}
    if len(sys.argv) >= 5:
        options = {
            "authenticator": authenticator(sys.argv[3], sys.argv[4]),
            "auth_required": True,
            "auth_require_tls": False,
        }
    if len(sys.argv) == 8:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[6], sys.argv[7])
        if sys.argv[5] == "starttls":
            options.update(tls_context=context, require_starttls=True, auth_require_tls=True)
        else:
            options.update(ssl_context=context)
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
