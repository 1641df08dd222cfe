"""`socklab watch`: the live page, served on 127.0.0.1 only, fed by one Watcher.

The page asks for /state again as soon as it has drawn an answer; an answer waits until what the lab shows
has changed (sampled every MIN_INTERVAL_S, whatever the number of tabs) or HOLD_S has passed. The lab is
read only while a page is waiting, so a closed tab leaves it unread; watching starts nothing in the nodes.
"""
import json
import select
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from orchestrator import i18n, pages
from orchestrator.errors import LabError
from orchestrator.i18n import _
from orchestrator.watch.live import Watcher, host_pids
from orchestrator.watch.sockets import SocketTable

MIN_INTERVAL_S = 0.4
HOLD_S = 10.0


class LabGone(LabError):
    """watch was asked for a lab with no nodes."""


class Feed:
    """The latest sample, shared by every page: taken anew when it is older than MIN_INTERVAL_S, and numbered
    anew only when what it shows changed (the time it was taken aside)."""

    def __init__(self, watcher):
        self.watcher, self.lock = watcher, threading.Lock()
        self.latest, self.shown, self.body, self.taken, self.version = None, None, None, 0.0, 0

    def state(self):
        """(version, the latest sample as JSON)."""
        with self.lock:
            if self.body is None or time.monotonic() - self.taken >= MIN_INTERVAL_S:
                try:
                    self.latest, error = self.watcher.sample(), None
                except LabError as exc:  # the lab went down under the page: said there, watch goes on
                    error = str(exc)
                except Exception as exc:  # an engine that stopped answering: the same
                    error = f"{type(exc).__name__}: {exc}"
                self.taken = time.monotonic()
                shown = json.dumps({**(self.latest or {}), "time": None, "error": error}, sort_keys=True)
                if shown != self.shown:
                    self.shown, self.version = shown, self.version + 1
                self.body = json.dumps({**(self.latest or {}), "error": error, "version": self.version}).encode()
            return self.version, self.body


def page(lab, lang):
    """The live page, self-contained, in the user's language."""
    with i18n.using(lang):
        return pages.environment.get_template("watch.html").render(
            css=pages.css(), lang=lang, project=lab.project, words=words())


def words():
    """What the page's script says, translated here: {key: text}."""
    return {"updated": _("live: last change at {time}"), "stopped": _("watch stopped answering: is it still running?"),
            "opened": _("{a}:{a_port} → {b}:{b_port} opened"),
            "closing": _("{a}:{a_port} ↔ {b}:{b_port} closing ({states})"),
            "closed": _("{a}:{a_port} ↔ {b}:{b_port} closed"), "started": _("{node}: started {command}"),
            "ended": _("{node}: ended {command}"), "link": _("{proto} {from} → {to}: {bytes}/s, {packets} packets/s"),
            "udp": _("UDP {inbound} in, {outbound} out per s"), "elsewhere": _("on another machine: not read here"),
            "paused": _("paused"), "listening": _("listening on {ports}"), "partition": _("partition"),
            "impair": _("impaired:")}


class Handler(BaseHTTPRequestHandler):
    server_version = "socklab-watch"

    def do_GET(self):
        if self.headers.get("Host") not in self.server.hosts:  # another site's page, its name rebound to 127.0.0.1
            self._send(HTTPStatus.FORBIDDEN, "text/plain", b"only this host's own address may ask")
        elif self.path == "/":
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", self.server.page.encode())
        elif self.path.startswith("/state"):
            body = self._changed(parse_qs(urlsplit(self.path).query))
            if body is not None:
                self._send(HTTPStatus.OK, "application/json", body)
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")

    def _changed(self, query):
        """The state as soon as its version differs from the page's `after`, else after HOLD_S: a page that
        has seen the latest waits here, and an idle lab costs it nothing. The lab is sampled while a page
        waits, and no longer once that page has gone (None)."""
        after = query.get("after", [""])[0]
        deadline = time.monotonic() + HOLD_S
        while not self.server.stopping.is_set():
            version, body = self.server.feed.state()
            if str(version) != after or time.monotonic() >= deadline:
                return body
            if self._gone(MIN_INTERVAL_S):
                return None
        return None

    def _gone(self, seconds):
        """Wait up to seconds; True when the page closed its connection meanwhile."""
        readable, _, _ = select.select([self.connection], [], [], seconds)
        return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)

    def _send(self, status, kind, body):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # a request is not news
        pass


class WatchServer(ThreadingHTTPServer):
    """The page and its state on 127.0.0.1; LabError (one line) when there is no lab to watch, when this user
    may not read its nodes' namespaces, or when the port is taken."""
    daemon_threads = True
    block_on_close = False  # Ctrl-C ends a page's wait (stopping), not waits for it

    def __init__(self, lab, port=0, lang="en"):
        nodes = lab.nodes()
        if not nodes:
            raise LabGone(_("lab {project} has no nodes: `make up` starts it").format(project=lab.project))
        readable(nodes)
        self.watcher, self.stopping = Watcher(lab), threading.Event()
        self.feed, self.page = Feed(self.watcher), page(lab, lang)
        try:
            super().__init__(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise LabError(_("watch cannot listen on 127.0.0.1:{port}: {error}").format(
                port=port, error=exc.strerror)) from None

    @property
    def host(self):
        return f"127.0.0.1:{self.server_address[1]}"

    @property
    def hosts(self):
        """The Host headers a browser on this host sends: the address or localhost, with the port (bare on 80)."""
        port = self.server_address[1]
        return {f"{name}:{port}" for name in ("127.0.0.1", "localhost")} | (
            {"127.0.0.1", "localhost"} if port == 80 else set())

    @property
    def url(self):
        return f"http://{self.host}/"

    def handle_error(self, request, client_address):
        """A page that went away mid-answer is not news; anything else is said as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def server_close(self):
        self.stopping.set()
        super().server_close()
        with self.feed.lock:  # not while a page's request is sampling
            self.watcher.close()


def readable(nodes):
    """LabError when this user may not enter the nodes' namespaces (setns needs root, as Docker does); a node
    that is not on this host's kernel is fine (a swarm's other machine)."""
    for pid in host_pids(nodes).values():
        if pid:
            try:
                SocketTable(pid).close()
            except PermissionError:
                raise LabError(_("watch reads the nodes' socket tables from this host's kernel, which needs root "
                                 "(as Docker does): run it with sudo")) from None
            return
