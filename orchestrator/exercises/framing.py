"""framing: the learner's server echoes `!I`-length-prefixed messages under every chunking a network makes."""
from orchestrator.exercises import _steps
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "framing"
ROLE = "server"
SUMMARY = N_("an echo server for length-prefixed messages: partial reads, 粘包, byte order, many clients")

# case: (title, what it does to the server, why it matters)
CASES = {
    "empty-then-small": (N_("an empty message, then 'hello'"), N_("a 0-byte and a 5-byte message, each echoed"),
                         N_("The smallest frames: a length of 0 is a message too.")),
    "sizes": (N_("1 B to 1 MiB, the last bytes 50 ms late"), N_("7 messages from 1 B to 1 MiB, the last 2 bytes of "
              "each 50 ms after the rest"), N_("A recv() returns what has arrived, never waiting for the rest of a "
                                               "message.")),
    "byte-writes": (N_("1-byte writes"), N_("4 messages (0 to 300 B) sent one byte per write"),
                    N_("TCP keeps no write boundaries: even the 4-byte prefix can arrive a byte at a time.")),
    "random-chunks": (N_("random chunkings"), N_("20 messages up to 30 KB, the stream cut at random into writes of "
                      "1 B to 8 KB"), N_("Messages straddle reads at any point: only the length says where one ends.")),
    "batched": (N_("five messages in one write"), N_("5 messages of 10 to 100 B in a single send()"),
                N_("粘包: one recv() can hold several messages; each must be echoed as its own frame.")),
    "paused-prefix": (N_("a pause inside the length prefix"), N_("2 bytes of the prefix, 300 ms, then the rest"),
                      N_("A reader must loop for the prefix as for the message.")),
    "five-clients": (N_("five clients at once"), N_("5 connections open together, 3 messages each, none closing "
                     "before all are answered"), N_("A server has many clients; one must not wait for another to "
                                                    "leave.")),
    "mid-frame-close": (N_("a client vanishes mid-frame, then a new one"),
                        N_("a prefix announcing 1000 B, 10 B, close; then a new client with 2 messages"),
                        N_("A peer can vanish at any byte; the server carries on for the others.")),
}

HINTS = {
    "short": N_("粘包's other half, the missing loop: recv(n) returns at most n bytes, often fewer. Loop until "
                "the length the prefix announced has arrived (a recv_exactly(conn, n) helper), then echo."),
    "merged": N_("粘包: one recv() is not one message. Read the 4-byte length, then exactly that many bytes; "
                 "the bytes after them are the next message's."),
    "swapped": N_("struct byte order: a format without '!' packs in this machine's order (little-endian on x86). "
                  "The protocol is '!I': 4 bytes, network (big-endian) order, on every machine."),
    "native": N_("struct byte order: the empty message (whose length reads the same both ways) came back, the "
                 "5-byte one did not. Read as little-endian, its prefix 00 00 00 05 announces 83,886,080 bytes: "
                 "a struct format without '!' ('I' or '=I') waits for them. Use '!I'."),
    "prefix": N_("The length prefix read with one recv(4): it can arrive in pieces too, and a short prefix makes "
                 "struct.unpack fail. Loop for the 4 prefix bytes exactly as for the message."),
    "concurrent": N_("One client at a time: while the server reads from one connection, the others are never "
                     "accepted. Serve each connection in a thread (or with selectors, or socketserver's "
                     "ThreadingTCPServer)."),
    "vanished": N_("A client that closes mid-message ended the server: recv() returning b'' in the middle of a "
                   "frame ends that connection only; catch errors per connection."),
    "no-reply": N_("No reply came: the server waits for more bytes than were sent, or never answers a frame "
                   "(a native-size format such as 'L' is 8 bytes here, not 4)."),
    "closed": N_("The server closed the connection instead of replying: an exception in its handler? Run it "
                 "with `socklab run server FILE PORT` and watch its stderr."),
}


def native_order(cases):
    """True when the empty message was echoed and the 5-byte one was not answered, and five messages in one
    write got no answer at all: the byte-order bug. (A server that answers only the first frame of each
    recv() can drop 'hello' sent right after the empty message too, but it answers the first of the five.)"""
    failure, batched = cases["empty-then-small"]["failure"], cases["batched"]["failure"]
    return bool(failure) and failure["verdict"] == "no-reply" and failure["index"] == 1 \
        and bool(batched) and batched["verdict"] == "no-reply" and batched["index"] == 0


def hint(case, failure, native=False):
    """The hint for a case's first failure: its verdict's, sharpened by what the case tests and by the
    byte-order bug when the first case showed it (then every silence is that bug)."""
    verdict = failure["verdict"]
    if native and verdict == "no-reply":
        return _(HINTS["native"])
    if case in ("byte-writes", "paused-prefix") and verdict in ("closed", "no-reply") and failure["index"] == 0:
        return _(HINTS["prefix"])
    if case in ("batched", "empty-then-small") and verdict == "no-reply" and failure["index"] > 0:
        return _(HINTS["merged"])  # frames written back to back: the first answered, the next never
    if case == "five-clients" and verdict == "no-reply":
        return _(HINTS["concurrent"])
    if case == "mid-frame-close" and verdict in ("refused", "closed"):
        return _(HINTS["vanished"])
    return _(HINTS.get(verdict, HINTS["closed"]))


def told(failure):
    """What went wrong with one echo, in words."""
    number = failure.get("index", 0) + 1
    at = (_("message {number} ({size} B)").format(number=number, size=failure["size"]) if "size" in failure else
          _("message {number}").format(number=number))
    if "client" in failure:
        at = _("client {client}, {message}").format(client=failure["client"] + 1, message=at)
    verdict = failure["verdict"]
    if verdict in ("short", "merged", "swapped") and "received" not in failure:
        return _("{where}: the echo's length said {header} B").format(where=at, header=failure["header"])
    if verdict == "short":
        text = {"timeout": _("{where}: {received} of {header} B came back, then timeout"),
                "reset": _("{where}: {received} of {header} B came back, then reset"),
                "closed": _("{where}: {received} of {header} B came back, then closed")}.get(
            failure["stopped"], _("{where}: {received} of {header} B came back, then {stopped}"))
        return text.format(where=at, received=failure["received"], header=failure["header"],
                           stopped=failure["stopped"])
    if verdict == "mismatch":
        return _("{where}: the echo differs from byte {offset}").format(where=at, offset=failure["first_difference"])
    if verdict == "refused":
        return _("{where}: could not connect ({error})").format(where=at, error=failure.get("error", _("refused")))
    if verdict == "no-reply":
        return _("{where}: no reply within 3 s").format(where=at)
    return _("{where}: the connection was closed").format(where=at)


def case_step(case, outcome, native):
    title, does, why = CASES[case]
    failure = outcome["failure"]
    return Step(
        case, _(title), passed=failure is None,
        expected=_("{does}: every echo byte-exact, in order, framed with its own length").format(does=_(does)),
        observed=_("{echoed}/{messages} echoed right").format(echoed=outcome["echoed"], messages=outcome["messages"])
        + (_("; {failure}").format(failure=told(failure)) if failure else ""),
        why=_(why), facts=outcome, hint=hint(case, failure, native) if failure else "")


def check(lab, program, progress, seed):
    def steps(got, record):
        native = native_order(got["cases"])
        return [case_step(case, got["cases"][case], native) for case in CASES]
    return _steps.check_server(lab, program, progress, NAME, "framing", ("--seed", seed), steps)
