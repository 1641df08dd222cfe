"""`socklab watch`: the live page, served on 127.0.0.1 only, fed by one Watcher.

The page asks for /state twice a second; the lab is sampled only when it asks (never more often than
MIN_INTERVAL_S, whatever the number of tabs), so a closed tab leaves the lab unread and nothing running in
it: watching starts nothing in the nodes.
"""
import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from orchestrator import i18n, pages
from orchestrator.errors import LabError
from orchestrator.i18n import _
from orchestrator.watch.live import Watcher

MIN_INTERVAL_S = 0.4
POLL_MS = 500


class LabGone(LabError):
    """watch was asked for a lab with no nodes."""


class Feed:
    """The latest sample, shared by every page; taken anew when it is older than MIN_INTERVAL_S."""

    def __init__(self, watcher):
        self.watcher, self.lock = watcher, threading.Lock()
        self.latest, self.taken, self.error = None, 0.0, None
        self.asked = 0.0

    def state(self):
        with self.lock:
            self.asked = time.monotonic()
            if self.latest is None or time.monotonic() - self.taken >= MIN_INTERVAL_S:
                try:
                    self.latest, self.error = self.watcher.sample(), None
                except LabError as exc:  # the lab went down under the page: said there, watch goes on
                    self.error = str(exc)
                except Exception as exc:  # an engine that stopped answering: the same
                    self.error = f"{type(exc).__name__}: {exc}"
                self.taken = time.monotonic()
            return {**(self.latest or {}), "error": self.error}


def page(lab, lang):
    """The live page, self-contained, in the user's language."""
    with i18n.using(lang):
        return pages.environment.get_template("watch.html").render(
            css=pages.css(), lang=lang, project=lab.project, poll_ms=POLL_MS, words=words())


def words():
    """What the page's script says, translated here: {key: text}."""
    return {"updated": _("updated at {time}"), "stopped": _("watch stopped answering: is it still running?"),
            "opened": _("{a}:{a_port} → {b}:{b_port} opened"),
            "closing": _("{a}:{a_port} ↔ {b}:{b_port} closing ({states})"),
            "closed": _("{a}:{a_port} ↔ {b}:{b_port} closed"), "started": _("{node}: started {command}"),
            "ended": _("{node}: ended {command}"), "link": _("{proto} {from} → {to}: {bytes}/s, {packets} packets/s"),
            "udp": _("UDP {inbound} in, {outbound} out per s"), "elsewhere": _("on another machine: not read here"),
            "paused": _("paused"), "listening": _("listening on {ports}"), "none": _("none")}


class Handler(BaseHTTPRequestHandler):
    server_version = "socklab-watch"

    def do_GET(self):
        if self.path == "/":
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", self.server.page.encode())
        elif self.path == "/state":
            self._send(HTTPStatus.OK, "application/json", json.dumps(self.server.feed.state()).encode())
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")

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
    daemon_threads = True

    def __init__(self, lab, port=0, lang="en"):
        if not lab.nodes():
            raise LabGone(_("lab {project} has no nodes: `make up` starts it").format(project=lab.project))
        super().__init__(("127.0.0.1", port), Handler)
        self.watcher = Watcher(lab)
        self.feed, self.page = Feed(self.watcher), page(lab, lang)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def server_close(self):
        super().server_close()
        self.watcher.close()
