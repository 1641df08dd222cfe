"""A socket's life, the parts the course's first programs trip over: the end of a stream, TIME_WAIT and
"Address already in use", a command with no output, and two commands in one recv()."""
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "socket-life"
SUMMARY = N_("recv() returns b'' at the end (the endless loop); TIME_WAIT and SO_REUSEADDR; an empty reply hangs "
             "the course's client; two quick commands merge in the server's recv(1024)")
PARAMS = {}


def eof_step(node):
    r = node.program("socklife", "eof")
    return Step(
        "recv-empty-at-close", _("the peer closed: recv() returns b'' for ever"),
        passed=r["first"] == "hi" and r["after_close"] == "" and r["empty_recvs_in_100ms"] > 1000,
        expected=_("after the client sends 'hi' and closes, the server's recv() returns 'hi', then b'' — at once, "
                   "every time it is called"),
        observed=_("first recv: {first}; then {after_close}; a loop without `if not data: break` called recv() "
                   "{count:,} times in 0.1 s, each returning b''").format(
            first=repr(r["first"]), after_close=repr(r["after_close"]), count=r["empty_recvs_in_100ms"]),
        why=_("b'' is how recv() says the stream has ended (the peer sent FIN): it does not block, so a loop that "
              "does not stop on it spins and burns a CPU — the course's `if not data: break`. (On Windows, a peer "
              "that vanishes without closing, a killed client say, more often gives ConnectionResetError than "
              "b'': the course's servers catch both.)"),
        facts=r)


# what nodes.socklife says happened, for people (the facts keep its own words)
SAID = (N_("bound"), N_("replied"), N_("closed"), N_("still waiting after 2 s"))


def time_wait_step(node):
    r = node.program("socklife", "time-wait")
    only_new = r["old_without_reuseaddr"]
    return Step(
        "time-wait-reuseaddr", _("TIME_WAIT and \"Address already in use\""),
        passed=bool(r["ss_time_wait"]) and r["bind_again"] == "EADDRINUSE"
        and r["bind_again_with_so_reuseaddr"] == "bound" and bool(only_new["ss_time_wait"])
        and only_new["bind_again_with_so_reuseaddr"] == "EADDRINUSE",
        expected=_("a server that closed its connection first cannot bind its port again at once; with "
                   "SO_REUSEADDR it can — if the old listener had set it too"),
        observed=_("ss -tan state time-wait: {time_wait}; bind() again: {bind_again}; with SO_REUSEADDR: "
                   "{with_reuseaddr}; with SO_REUSEADDR on the new listener only: {only_new}").format(
            time_wait=repr(r["ss_time_wait"]), bind_again=_(r["bind_again"]),
            with_reuseaddr=_(r["bind_again_with_so_reuseaddr"]), only_new=_(only_new["bind_again_with_so_reuseaddr"])),
        why=_("The side that closes first keeps the connection in TIME_WAIT for a while (60 s on Linux), for two "
              "reasons: a late packet of it cannot be taken for part of a new one, and if its last ACK is lost "
              "it can still answer the peer's resent FIN. The port counts as in use meanwhile. SO_REUSEADDR lets "
              "a listener bind it anyway — on Linux only if the old listener had set it too (the connection "
              "inherits it), as measured here: which is why servers set it always, before bind()."),
        facts=r)


def empty_reply_step(node):
    r = node.program("socklife", "empty-reply")
    return Step(
        "empty-reply-hangs", _("a command with no output hangs the course's client"),
        passed=r["outcome"] == "still waiting after 2 s" and r["command"] == ["true"],
        expected=_("`true` prints nothing; the course's server sends its output as it is — nothing — and the "
                   "client's recv() waits for bytes that never come"),
        observed=_("the server ran {command}; the client was {outcome}").format(command=r["command"],
                                                                             outcome=_(r["outcome"])),
        why=_("send(b'') sends no packet at all: without a header that says 'zero bytes follow', a reply of nothing "
              "is indistinguishable from a slow one. (execd's naive port sends a newline for an empty output, only "
              "to hide this; the framed port's header says 0.)"),
        facts=r)


def merged_step(node):
    r = node.program("socklife", "merged-commands")
    return Step(
        "commands-merged", _("two quick commands reach the server as one"),
        passed=r["server_received"] == ["pwdls"] and "pwdls" in r["reply"],
        expected=_("the client sends 'pwd' and then 'ls' right away; the server's one recv(1024) gets 'pwdls' and "
                   "runs that"),
        observed=_("sent {sent}; the server received {received}; reply: {reply}").format(
            sent=r["sent"], received=r["server_received"], reply=repr(r["reply"])),
        why=_("粘包 goes both ways: the client's two send() calls are bytes in one stream, and the server, a moment "
              "late, gets them together. Commands need framing too — a length header, or a delimiter such as a "
              "newline."),
        facts=r)


def run(lab, params, progress):
    node = lab.node("worker2")
    progress(_("the end of a stream, TIME_WAIT, an empty reply, merged commands"))
    return [eof_step(node), time_wait_step(node), empty_reply_step(node), merged_step(node)]
