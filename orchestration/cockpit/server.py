"""`cvm serve`'s production server: the cockpit's WSGI app under Waitress.

Waitress (pure Python, no C build, runs wherever the project runs) answers with a pool of
worker threads ($CVM_SERVE_THREADS, default 8); a connection that sends nothing for
$CVM_SERVE_TIMEOUT seconds (default 120) is closed. SIGTERM (and Ctrl+C) stops it gracefully:
the server stops accepting connections, the requests under way are answered (for up to
$CVM_SERVE_GRACE seconds, default 10), then it exits 0.

Behind a reverse proxy, $CVM_TRUST_PROXY=N (the number of proxies in front) makes the app honour
the X-Forwarded-For/-Proto/-Host/-Port/-Prefix headers those proxies set (Werkzeug's ProxyFix);
unset or 0, the headers are ignored.
"""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server
from werkzeug.middleware.proxy_fix import ProxyFix

from orchestration import settings

log = logging.getLogger("orchestration.cockpit")


def wsgi_app(warehouse: Path, auth: str, users: Path | None = None):
    """The cockpit as the WSGI app the server runs (behind ProxyFix when a proxy is trusted)."""
    from orchestration.cockpit.app import create_app

    app = create_app(warehouse, auth=auth, users=users)
    app.enable_dev_tools(debug=False)
    wsgi = app.server.wsgi_app
    proxies = int(settings.env_number("CVM_TRUST_PROXY", 0))
    if proxies:
        app.server.wsgi_app = ProxyFix(wsgi, x_for=proxies, x_proto=proxies, x_host=proxies,
                                       x_port=proxies, x_prefix=proxies)
    return app.server


class Server:
    """Waitress on ``host``:``port`` (0: a free port) until :meth:`stop` or SIGTERM."""

    def __init__(self, wsgi, host: str, port: int):
        self.threads = int(settings.env_number("CVM_SERVE_THREADS", 8, minimum=1))
        self.grace = settings.env_number("CVM_SERVE_GRACE", 10)
        self._server = create_server(
            wsgi, host=host, port=port, threads=self.threads, ident="cvm",
            channel_timeout=int(settings.env_number("CVM_SERVE_TIMEOUT", 120, minimum=1)),
            # the proxy headers are ProxyFix's business, and only when trusted
            trusted_proxy=None, clear_untrusted_proxy_headers=False,
        )
        self.port = self._server.effective_port
        self._stopping: float | None = None

    def stop(self, *_signal) -> None:
        if self._stopping is None:
            self._stopping = time.monotonic()

    def _busy(self) -> bool:
        return any(isinstance(ch, HTTPChannel) and (ch.requests or ch.total_outbufs_len)
                   for ch in list(self._server._map.values()))  # noqa: SLF001

    def run(self) -> None:
        server = self._server
        listening = True
        while True:
            wasyncore.loop(timeout=0.2, map=server._map, count=1)  # noqa: SLF001
            if self._stopping is None:
                continue
            if listening:  # no new connection; what is under way goes on
                wasyncore.dispatcher.close(server)
                listening = False
            if not self._busy() or time.monotonic() - self._stopping > self.grace:
                break
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=self.grace)
        for channel in list(server._map.values()):  # noqa: SLF001
            channel.close()


def serve(warehouse: Path, host: str, port: int, auth: str, users: Path | None = None,
          ready=None) -> None:
    """Serve until SIGTERM or Ctrl+C; ``ready(port)`` is called once it listens."""
    server = Server(wsgi_app(warehouse, auth, users), host, port)
    previous = {sig: signal.signal(sig, server.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if ready:
            ready(server.port, server.threads)
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
