"""A TCP connection's opening and closing, read off the wire: one conversation client1 -> server captured on
the server (the three-way handshake, a half-close, the four-way close and who is left in TIME_WAIT); a
listen backlog that overflows (SYNs dropped and resent, connect() late by the resend timer); and how far
struct's formats reach, which is why a file's size goes in a JSON header.
"""
from nodes.lib import ports
from orchestrator.i18n import N_, _
from orchestrator.result import Step
from orchestrator.scenarios._cleanup import nothing_left

NAME = "handshake"
SUMMARY = N_("the three-way handshake and the four-way close on the wire, a half-close, who ends in TIME_WAIT; "
             "a full accept queue drops SYNs and connect() waits for their resending; struct's ranges")
PARAMS = {"backlog": (2, 0, 16), "late": (3, 1, 10), "hold_short": (0.5, 0.1, 0.9), "hold_long": (2.5, 2.1, 2.9),
          "reply_delay_ms": (300, 0, 2000)}
AT_ONCE_S = 0.5       # a connect() that found room in the accept queue: a round trip, far below a resend
FIRST_RESEND_S = 0.9  # the first SYN resent: 1 s after the first (TCP's initial retransmission timeout)
LATER_RESEND_S = 2.9  # a SYN resent later still: 3 s on every kernel (1 + 1 + 1 linear, or 1 + 2 doubling)
# who sent a segment, and a side that ss no longer lists, for people (the facts keep their own words)
SAID = (N_("client"), N_("server"), N_("gone"))


def numbered(segments, client, server):
    """The segments between client and server ("ip:port"), in capture order: who sent each, its flags, its seq
    and ack counted from each side's first sequence number (its ISN, as Wireshark shows them), its bytes, and
    the ms since the first."""
    ours = [s for s in segments if {s["src"], s["dst"]} == {client, server}]
    isn = {}
    for s in ours:
        if "SYN" in s["flags"]:
            isn.setdefault(s["src"], s["seq"])
    start = ours[0]["t"] if ours else 0
    return [{"ms": round(1000 * (s["t"] - start), 3), "from": "client" if s["src"] == client else "server",
             "flags": s["flags"], "seq": (s["seq"] - isn.get(s["src"], 0)) % 2**32,
             "ack": (s["ack"] - isn.get(s["dst"], 0)) % 2**32 if "ACK" in s["flags"] else None,
             "bytes": s["bytes"], **({"options": s["options"]} if "options" in s else {})} for s in ours]


def conversation(server, client, params):
    """One conversation client -> server, captured on the server: {"client", "server", "segments"}, each side's
    own account and the segments numbered."""
    with server.serve("handshake", "capture", "--ports", ports.HANDSHAKE) as capture, \
            server.serve("handshake", "talk-server", "--port", ports.HANDSHAKE,
                         "--reply-delay", params["reply_delay_ms"] / 1000) as answering:
        said = client.program("handshake", "talk", server.ip, "--port", ports.HANDSHAKE)
        heard = answering.result(20)
        segments = capture.stop().result()["segments"]
    return {"client": said, "server": heard, "segments": numbered(segments, said["client"], said["server"])}


def label(segment):
    """A segment in the lesson's words: its flags, seq and ack (relative), its bytes."""
    words = ["+".join(segment["flags"]), f"seq={segment['seq']}"]
    if segment["ack"] is not None:
        words.append(f"ack={segment['ack']}")
    if segment["bytes"]:
        words.append(_("{bytes} B").format(bytes=segment["bytes"]))
    return " ".join(words)


def told(segments):
    """Segments one after another, each with its sender and time."""
    return _("; ").join(_("{sender} {segment} at {ms} ms").format(sender=_(s["from"]), segment=label(s), ms=s["ms"])
                        for s in segments)


def listed(seconds):
    """Times for people: `1.01, 1.01, 3.06`."""
    return ", ".join(f"{value:.2f}" for value in sorted(seconds))


def handshake_step(talked):
    seen = talked["segments"][:3]
    syn, syn_ack, ack = (seen + [None] * 3)[:3]
    passed = len(seen) == 3 and (syn["from"], syn["flags"], syn["seq"]) == ("client", ["SYN"], 0) \
        and (syn_ack["from"], syn_ack["flags"], syn_ack["seq"], syn_ack["ack"]) == ("server", ["SYN", "ACK"], 0, 1) \
        and (ack["from"], ack["flags"], ack["seq"], ack["ack"], ack["bytes"]) == ("client", ["ACK"], 1, 1, 0)
    return Step(
        "three-way-handshake", _("the three-way handshake on the wire"), passed=passed,
        expected=_("the client's SYN, the server's SYN+ACK acknowledging it, the client's ACK acknowledging that: "
                   "connect() returns after these three"),
        observed=_("{segments}; connect() took {connect_ms:.2f} ms; the SYN offered {options}").format(
            segments=told(seen), connect_ms=1000 * talked["client"]["connect_s"],
            options=", ".join(o for o in syn.get("options", []) if o not in ("NOP", "EOL")) if syn else "-"),
        why=_("三次握手: each side picks its own first sequence number (ISN, counted as 0 here) and the other "
              "acknowledges it with ISN + 1 — a SYN takes one number though it carries no byte; the SYNs also "
              "agree the options (MSS, window scale, SACK, timestamps)."),
        facts={"client": talked["client"]["client"], "server": talked["client"]["server"],
               "connect_s": talked["client"]["connect_s"], "segments": seen})


def end(segment):
    """The number that acknowledges a FIN segment: its seq, its bytes, and one for the FIN itself."""
    return segment["seq"] + segment["bytes"] + 1


def closing(segments):
    """[the first FIN, the other side's first ACK of it, the other side's FIN, the ACK of that FIN] as captured;
    None for each one missing."""
    first = next((s for s in segments if "FIN" in s["flags"]), None)
    if first is None:
        return [None] * 4
    later = segments[segments.index(first) + 1:]
    other = [s for s in later if s["from"] != first["from"]]
    acked = next((s for s in other if s["ack"] == end(first)), None)
    fin = next((s for s in other if "FIN" in s["flags"]), None)
    last = fin and next((s for s in later[later.index(fin) + 1:]
                         if s["from"] == first["from"] and s["ack"] == end(fin)), None)
    return [first, acked, fin, last]


def close_step(talked):
    segments = talked["segments"]
    first, acked, fin, last = four = closing(segments)
    apart = None not in (acked, fin) and segments.index(acked) < segments.index(fin)
    client, server = talked["client"]["state_after_close"], talked["server"]["state_after_close"]
    passed = first is not None and first["from"] == "client" and apart and last is not None \
        and client == "TIME-WAIT" and server == "gone"
    return Step(
        "four-way-close", _("the four-way close: who sends FIN first ends in TIME_WAIT"), passed=passed,
        expected=_("the client closes first (its FIN), the server acknowledges it, later sends its own FIN, the "
                   "client acknowledges that; ss then shows the client's side in TIME-WAIT, the server's gone"),
        observed=_("{segments}; ss on the client: {client_ss}; on the server: {server_state}").format(
            segments=told([s for s in four if s]) or _("no FIN captured"), client_ss=talked["client"]["ss"] or client,
            server_state=_(server)),
        why=_("四次挥手: each direction is closed by its own FIN and ACK, and the server's ACK and FIN go apart "
              "because it still had bytes to send in between; the side that sent the first FIN waits in "
              "TIME_WAIT (60 s on Linux) to answer a resent FIN, the other side is gone once its FIN is "
              "acknowledged."),
        facts={"segments": segments[segments.index(first):] if first else [], "client_state": client,
               "client_ss": talked["client"]["ss"], "server_state": server, "server_ss": talked["server"]["ss"]})


def half_close_step(talked):
    said, heard, segments = talked["client"], talked["server"], talked["segments"]
    first_fin = closing(segments)[0]
    after = segments[segments.index(first_fin) + 1:] if first_fin else []
    data = [s for s in segments if s["from"] == "server" and s["bytes"]]
    passed = first_fin is not None and first_fin["from"] == "client" and heard["received"] == said["sent"] \
        and bool(said["reply_after_shutdown"]) and said["reply_after_shutdown"] == heard["replied"] \
        and bool(data) and all(s in after for s in data) and sum(s["bytes"] for s in data) == len(heard["replied"])
    client_data = next((s for s in segments if s["from"] == "client" and s["bytes"]), first_fin)
    return Step(
        "half-close", _("a half-close: shutdown(SHUT_WR) and still receiving"), passed=passed,
        expected=_("the client sends its request and shutdown(SHUT_WR): its FIN; the server's recv() returns b'', "
                   "it replies, and the client, which can no longer send, receives the whole reply"),
        observed=_("the server read {received} then b''; {delay_ms} ms later it replied {replied} in {segments} "
                   "segment(s), all after the client's FIN; the client received {reply}").format(
            received=repr(heard["received"]), delay_ms=round(1000 * heard["replied_after_eof_s"]),
            replied=repr(heard["replied"]), segments=len(data), reply=repr(said["reply_after_shutdown"])),
        why=_("shutdown(SHUT_WR) sends a FIN for one direction only: the end of the request, without a 报头 to "
              "say its length; the other direction stays open until the server's own FIN — close() would have "
              "ended both."),
        facts={"sent": said["sent"], "received": heard["received"], "replied": heard["replied"],
               "reply_after_shutdown": said["reply_after_shutdown"],
               "replied_after_eof_s": heard["replied_after_eof_s"],
               "segments": segments[segments.index(client_data):] if client_data else []})


def syn_times(segments, client, server):
    """One client's SYNs and the server's first SYN+ACK to it, in s since its first SYN."""
    mine = [s for s in segments if {s["src"], s["dst"]} == {client, server}]
    syns = [s["t"] for s in mine if s["flags"] == ["SYN"]]
    answers = [s["t"] for s in mine if s["flags"] == ["SYN", "ACK"]]
    start = syns[0] if syns else 0
    return {"syn_s": [round(t - start, 4) for t in syns],
            "syn_ack_s": round(answers[0] - start, 4) if answers else None}


def backlog_run(server, client, params, port, hold):
    """One listener that holds a full accept queue for `hold` s, its late clients timed."""
    queued, late = params["backlog"] + 1, params["late"]
    with server.serve("handshake", "backlog-server", "--port", port, "--backlog", params["backlog"], "--hold", hold,
                      "--expect", queued + late) as listening:
        clients = client.program("handshake", "backlog-clients", server.ip, "--port", port, "--queued", queued,
                                 "--late", late)
        held = listening.result(20)
    return {"hold_s": hold, "server": held, "clients": clients}


def overflow(server, client, params):
    """The two backlog runs (the server back before the first resent SYN, and after it), captured."""
    holds = dict(zip(ports.HANDSHAKE_BACKLOG, (params["hold_short"], params["hold_long"])))
    with server.serve("handshake", "capture", "--ports", ",".join(map(str, holds))) as capture:
        runs = [backlog_run(server, client, params, port, hold) for port, hold in holds.items()]
        segments = capture.stop().result()["segments"]
    return [{"hold_s": run["hold_s"], "ss_lnt": run["server"]["full"]["ss_lnt"],
             "accept_queue": run["server"]["full"]["accept_queue"], "half_open": run["server"]["full"]["half_open"],
             "dropped": run["server"]["dropped"], "queued": run["clients"]["queued"],
             "late": [{**late, **syn_times(segments, late["client"], run["clients"]["server"])}
                      for late in run["clients"]["late"]],
             "sysctls": {**run["server"]["sysctls"], **run["clients"]["sysctls"]}} for run in runs]


def run_passed(run, backlog, window):
    """The queue held backlog + 1; those queued connected at once; every late client's SYN went unanswered and
    was resent, and its connect() returned within window (s) — at a resend, once the server took the queue."""
    queue = run["ss_lnt"]
    low, high = window
    return queue["recv_q"] == queue["send_q"] + 1 == backlog + 1 \
        and all(q["outcome"] == "connected" and q["seconds"] < AT_ONCE_S for q in run["queued"]) \
        and all(late["outcome"] == "connected" and low <= late["seconds"] < high and len(late["syn_s"]) >= 2
                and late["syn_s"][1] >= FIRST_RESEND_S and late["syn_ack_s"] is not None
                and late["syn_ack_s"] >= late["syn_s"][-1] for late in run["late"]) \
        and run["dropped"]["listen_overflows"] >= len(run["late"])


def backlog_step(runs, params):
    short, later = runs
    windows = [(FIRST_RESEND_S, LATER_RESEND_S), (LATER_RESEND_S, float("inf"))]
    passed = all(run_passed(run, params["backlog"], window) for run, window in zip(runs, windows))
    linear = short["sysctls"].get("tcp_syn_linear_timeouts")
    return Step(
        "backlog-full", _("listen({backlog}): a full accept queue drops SYNs; connect() waits for their resending")
        .format(backlog=params["backlog"]), passed=passed,
        expected=_("listen({backlog}) and no accept(): {queued} connections wait in the queue (ss -lnt: Recv-Q "
                   "{queued}, Send-Q {backlog}); {late} more clients' SYNs are dropped and resent, so their connect() "
                   "returns after about 1 s when the server takes its queue at {hold_short} s, about 3 s when it "
                   "takes it at {hold_long} s").format(backlog=params["backlog"], queued=params["backlog"] + 1,
                                                       late=params["late"], hold_short=short["hold_s"],
                                                       hold_long=later["hold_s"]),
        observed=_("ss -lnt while full: {ss_lnt}; half-open (SYN-RECV): {half_open}; connect() of the queued "
                   "clients: {queued} s; of the late ones: {short} s (server back at {hold_short} s), {long} s "
                   "(back at {hold_long} s); one late client's SYNs left at {syns} s, answered at {answer} s; "
                   "ListenOverflows rose by {dropped}; {sysctls}").format(
            ss_lnt=short["ss_lnt"]["line"], half_open=short["half_open"],
            queued=listed(q["seconds"] for q in short["queued"]),
            short=listed(late["seconds"] for late in short["late"]), hold_short=short["hold_s"],
            long=listed(late["seconds"] for late in later["late"]), hold_long=later["hold_s"],
            syns=listed(later["late"][0]["syn_s"]) if later["late"] else "-",
            answer=later["late"][0]["syn_ack_s"] if later["late"] else "-",
            dropped=short["dropped"]["listen_overflows"] + later["dropped"]["listen_overflows"],
            sysctls=", ".join(f"{name} {value}" for name, value in short["sysctls"].items())),
        why=_("全连接队列: listen(n) lets n + 1 finished handshakes wait for accept() — ss -lnt shows them as "
              "Recv-Q, n as Send-Q; once it is full Linux drops a new SYN (tcp_abort_on_overflow = {abort}) before "
              "it takes a place in the 半连接池, and the client resends it 1 s later, then again, {schedule}: "
              "connect() returns at the first resend after the queue has room.").format(
            abort=short["sysctls"].get("tcp_abort_on_overflow"),
            schedule=_("1 s apart for the first {linear} resends on this kernel (tcp_syn_linear_timeouts)").format(
                linear=linear) if linear else _("each wait twice the last: at 1, 3, 7 s")),
        facts={"backlog": params["backlog"], "late_clients": params["late"], "runs": runs})


def struct_step(measured):
    formats, file = measured["formats"], measured["file"]
    failed = lambda text: text.startswith("struct.error")
    ranges = {"i": 2**31 - 1, "!I": 2**32 - 1, "!Q": 2**64 - 1}
    passed = all(formats[fmt]["largest"] == largest and not failed(formats[fmt]["packed"])
                 and failed(formats[fmt]["one_more"]) for fmt, largest in ranges.items()) \
        and failed(file["packed"]["i"]) and failed(file["packed"]["!I"]) and not failed(file["packed"]["!Q"]) \
        and file["json_read_back"] == file["bytes"]
    return Step(
        "struct-range", _("struct.pack('i', n) past 2**31 - 1, beside '!I' and '!Q'"), passed=passed,
        expected=_("'i' holds up to 2**31 - 1 and raises struct.error past it; '!I' holds up to 2**32 - 1, '!Q' up "
                   "to 2**64 - 1: a {gib} GiB file's size fits only '!Q' or a JSON header").format(
            gib=file["bytes"] >> 30),
        observed=_("struct.pack('i', {i_next}): {i_error}; '!I' up to {unsigned}, then {unsigned_error}; '!Q' up to "
                   "{quad}; {size} bytes: 'i' {file_i}, '!I' {file_unsigned}, '!Q' {file_quad}, JSON {json}").format(
            i_next=formats["i"]["largest"] + 1, i_error=formats["i"]["one_more"],
            unsigned=formats["!I"]["largest"], unsigned_error=formats["!I"]["one_more"],
            quad=formats["!Q"]["largest"], size=file["bytes"], file_i=file["packed"]["i"],
            file_unsigned=file["packed"]["!I"], file_quad=file["packed"]["!Q"], json=file["json_header"]),
        why=_("报头: 'i' is 4 bytes, signed and in the machine's byte order, so it holds 2 GiB - 1 at most; the "
              "course packs only the JSON header's length with it (a few hundred bytes) and puts the file's size "
              "in the JSON header, where a number has no fixed width; '!' is network byte order, 'Q' 8 bytes."),
        facts=measured)


def run(lab, params, progress):
    server, client = lab.node("server"), lab.node("client1")
    progress(_("one conversation client1 -> server, captured on the server"))
    talked = conversation(server, client, params)
    progress(_("listen({backlog}), a server that does not accept(), {late} clients too many").format(
        backlog=params["backlog"], late=params["late"]))
    runs = overflow(server, client, params)
    progress(_("struct's ranges"))
    return [handshake_step(talked), close_step(talked), half_close_step(talked), backlog_step(runs, params),
            struct_step(server.program("handshake", "struct-range")),
            nothing_left([server, client], ["nodes.handshake"],
                         _("every program of the lesson ends by itself or is stopped with it: a capture or a "
                           "listener left behind would hold its port and see the next run's packets"))]
