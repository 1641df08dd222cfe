"""udp-pinger: the learner's UDP client pings a lossy, jittery echo server and reports what happened."""
import re

from nodes.lib import ports
from orchestrator.exercises import _steps
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "udp-pinger"
ROLE = "client"
SUMMARY = N_("a UDP pinger: timeouts, a late reply, round-trip times and the loss summary, held to the server's "
             "record")
COUNT, LOSS, DELAY_MS, SLACK_MS = 10, 30, (10, 60), 100
LINE = re.compile(r"seq (\d+): (?:(\d+(?:\.\d+)?) ms|(timeout))")
SUMMARY_LINE = re.compile(r"(\d+) sent, (\d+) received, (\d+(?:\.\d+)?)% loss, rtt min/avg/max = "
                          r"(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?) ms")

HINTS = {
    "hang": N_("No timeout: recvfrom() waits forever for a reply that was dropped. Call sock.settimeout(1.0) and "
               "catch socket.timeout: UDP never tells you a datagram was lost."),
    "crash": N_("The program ended with an error before its summary: catch socket.timeout around recvfrom()."),
    "format": N_("Print exactly one line per ping, `seq N: X ms` or `seq N: timeout`, in order, and nothing else "
                 "that starts with `seq`."),
    "count": N_("Send exactly COUNT pings, one after another, each after the previous one's reply or timeout."),
    "late": N_("A late reply taken for a later ping's: a reply that comes after the 1 s timeout belongs to a ping "
               "already reported as timeout: compare each reply with the ping you sent (an echo server sends your "
               "bytes back) and ignore the others."),
    "timeouts": N_("Report a timeout for exactly the pings whose reply did not come within 1 s."),
    "rtt": N_("A round-trip time is measured from sending this ping to receiving this ping's reply: "
              "time.monotonic() before sendto() and after the matching recvfrom(), in milliseconds."),
    "summary": N_("The summary must agree with the lines: loss is (sent − received) / sent, min/avg/max over the "
                  "received pings' times."),
}


def parse(stdout):
    """([(seq, rtt_ms or None)], summary numbers or None) from the pinger's output."""
    lines = [(int(m[1]), None if m[3] else float(m[2])) for m in map(LINE.search, stdout.splitlines()) if m]
    summary = SUMMARY_LINE.search(stdout)
    return lines, [float(x) for x in summary.groups()] if summary else None


def finish_step(record):
    ok = record["exit_code"] == 0 and not record["timed_out"]
    return Step("finishes", _("it finishes within {count} × 1.5 s").format(count=COUNT), passed=ok,
                expected=_("`python3 FILE server {port} {count}` ends by itself with status 0 within "
                           "{seconds:.0f} s, though {loss_percent} of the pings get no reply").format(
                    port=ports.PINGER_ECHO, count=COUNT, seconds=COUNT * 1.5, loss_percent=f"{LOSS}%"),
                observed=_steps.ending(record) if not ok else
                _("exited with status 0 after {seconds} s").format(seconds=record["seconds"]),
                why=_("A lost UDP datagram is never reported: only a timeout ends the wait for it."),
                facts={"record": record}, hint="" if ok else _(HINTS["hang" if record["timed_out"] else "crash"]))


def lines_step(lines, record_count):
    seqs = [seq for seq, __ in lines]
    start = seqs[0] if seqs else 0
    ok = len(lines) == COUNT and seqs == list(range(start, start + COUNT)) and start in (0, 1) \
        and record_count == COUNT
    return Step("lines", _("one line per ping, in order"), passed=ok,
                expected=_("{count} datagrams sent and {count} lines `seq N: X ms` or `seq N: timeout`, N counting "
                           "up from 0 or 1").format(count=COUNT),
                observed=_("the server received {datagrams} datagram(s); {lines} line(s), seq {seqs}").format(
                    datagrams=record_count, lines=len(lines), seqs=seqs),
                why=_("Each ping gets its verdict, so the reader can match them with the server's record."),
                facts={"seqs": seqs, "datagrams": record_count},
                hint="" if ok else _(HINTS["count" if record_count != COUNT else "format"]))


def timeouts_step(lines, record):
    said = [rtt is None for __, rtt in lines]
    due = [d["fate"] != "echoed" for d in record[:len(lines)]]
    wrong = [i + 1 for i, (s, d) in enumerate(zip(said, due)) if s != d]
    late = [i + 1 for i, d in enumerate(record[:len(lines)]) if d["fate"] == "late"]
    ok = not wrong and len(lines) == len(record)
    return Step("timeouts", _("timeouts exactly where the server dropped or was late"), passed=ok,
                expected=_("`timeout` for the pings the server dropped ({dropped}) or answered after 1.3 s "
                           "(ping {late}), a time for every other").format(
                    dropped=sum(d["fate"] == "dropped" for d in record), late=late),
                observed=_("every verdict matches the server's record") if ok else
                _("the verdicts of ping(s) {pings} disagree with the server's record").format(pings=wrong),
                why=_("The server's record says which replies were never sent and which came too late."),
                facts={"said_timeout": said, "due_timeout": due, "late": late},
                hint="" if ok else _(HINTS["late" if late and any(n > late[0] for n in wrong) else "timeouts"]))


def rtts_step(lines, record):
    checks = [(i + 1, rtt, d["delay_ms"]) for i, ((__, rtt), d) in enumerate(zip(lines, record))
              if rtt is not None and d["fate"] == "echoed"]
    off = [(n, rtt, delay) for n, rtt, delay in checks if not delay - 1 <= rtt <= delay + SLACK_MS]
    return Step("rtts", _("each time is that ping's own round trip"), passed=bool(checks) and not off,
                expected=_("every reported time at least the server's delay for that ping ({low}–{high} ms, "
                           "jittered) and at most {slack} ms more").format(
                    low=DELAY_MS[0], high=DELAY_MS[1], slack=SLACK_MS),
                observed=_("{fit}/{checked} times fit").format(fit=len(checks) - len(off), checked=len(checks)) +
                         (_("; ping {ping}: {rtt} ms for a reply the server sent after {delay} ms").format(
                             ping=off[0][0], rtt=off[0][1], delay=off[0][2]) if off else ""),
                why=_("The server delayed each echo by a recorded amount: a time below it belongs to another ping's "
                      "reply, one far above it was measured from the wrong moment."),
                facts={"checked": checks, "off": off},
                hint="" if checks and not off else
                _(HINTS["late" if any(rtt < delay for __, rtt, delay in off) else "rtt"]))


def summary_step(lines, summary):
    rtts = [rtt for __, rtt in lines if rtt is not None]
    want = [COUNT, len(rtts), 100 * (COUNT - len(rtts)) / COUNT] + \
        ([min(rtts), sum(rtts) / len(rtts), max(rtts)] if rtts else [0, 0, 0])
    tolerance = [0, 0, 1, 1.0, 1.0, 1.0]  # the loss rounded to a whole percent; times to a whole ms or finer
    ok = summary is not None and all(abs(a - b) <= t for a, b, t in zip(summary, want, tolerance))
    return Step("summary", _("the summary agrees with the lines"), passed=ok,
                expected="`{} sent, {} received, {:.0f}% loss, rtt min/avg/max = {:.2f}/{:.2f}/{:.2f} ms`".format(*want),
                observed=_("no summary line") if summary is None else
                         "`{:g} sent, {:g} received, {:g}% loss, rtt min/avg/max = {:g}/{:g}/{:g} ms`".format(*summary),
                why=_("Loss is counted against the pings sent; the times are those of the replies received."),
                facts={"summary": summary, "from_lines": want}, hint="" if ok else _(HINTS["summary"]))


def check(lab, program, progress, seed):
    server, client = lab.node("server"), lab.node("client1")
    progress(_("udp-pinger: {file} on client1 pings the lossy echo server on server (about 5 s)").format(
        file=program.path.name))
    with server.serve("checkers.pinger", "--port", ports.PINGER_ECHO, "--count", COUNT, "--seed", seed,
                      "--loss", LOSS, "--delay-ms", ",".join(map(str, DELAY_MS)), "--idle-s", 3) as echo:
        record = program.start(client, "server", ports.PINGER_ECHO, COUNT, limit_s=COUNT * 1.5).result(COUNT * 1.5 + 30)
        datagrams = echo.result(30)["datagrams"]
    lines, summary = parse(record["stdout"])
    steps = [finish_step(record), lines_step(lines, len(datagrams))]
    if lines:
        steps += [timeouts_step(lines, datagrams), rtts_step(lines, datagrams), summary_step(lines, summary)]
    return steps + [_steps.clean([client])]
