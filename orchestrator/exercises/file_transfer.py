"""file-transfer: the learner's server stores uploads in DIR and serves downloads from it, each request and
reply a `!I` length and a JSON header, then the file's bytes."""
import json
import uuid

from nodes.lib.layout import SANDBOX_UID
from orchestrator.exercises import _steps
from orchestrator.exercises.framing import HINTS as FRAMING_HINTS
from orchestrator.exercises.thread_pool_server import threads_during as most_during
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "file-transfer"
ROLE = "server"
SUMMARY = N_("a file server with a JSON header: uploads checked by MD5, streamed 200 MiB files, path traversal, "
             "partial uploads, many clients, over a lossy link")
LARGE_MIB, MEMORY_MIB = 200, 64     # the large file; the resident memory the server may reach while it moves
FSIZE_MIB = LARGE_MIB + 56          # the sandbox's file size limit (64 MiB by default)
DELAY_MS, LOSS = 20, "3%"           # client1's outgoing packets in every case but the large file
IMPAIRED = ("small-files", "wrong-md5", "traversal", "missing-file", "vanished-upload", "five-clients")

# case: (title, what the checker does, why it matters)
CASES = {
    "small-files": (N_("0 B, 1 B and 1 MiB up and down"),
                    N_("on one connection: 3 uploads, then 3 downloads; one header written alone, one in the same "
                       "write as its file's first byte, the others in two writes 0.2 s apart; file bytes cut at "
                       "random into writes of 1 B to 64 KiB"),
                    N_("TCP keeps no write boundaries: a header can arrive in pieces, or stuck to the bytes after "
                       "it (粘包). Only the lengths say where each part ends.")),
    "wrong-md5": (N_("an upload whose MD5 is wrong"),
                  N_("64 KiB whose header announces another MD5, then a get of its name"),
                  N_("The MD5 is the receiver's proof that the bytes are the sender's: a file that fails it is not "
                     "stored.")),
    "traversal": (N_("names that are not plain file names"),
                  N_("uploads named '../escape.txt', 'sub/escape.txt', '', '.', '..'; downloads of "
                     "'../../../../../../../../etc/passwd', '/etc/passwd', '', '..'; each on a connection of its own"),
                  N_("A name from the network is data from a stranger: joined to DIR as it came, it reads and "
                     "writes anywhere the server may.")),
    "missing-file": (N_("a file that is not there"),
                     N_("a get of a name never stored, then a put and a get on the same connection"),
                     N_("An error is an answer: the client is told, and the connection goes on.")),
    "vanished-upload": (N_("a client vanishes mid-upload"),
                        N_("half of a 128 KiB upload, held 1 s while another client gets its name; then a reset, "
                           "and a new client gets the name"),
                        N_("A partial upload must never appear under the final name: others would read a file "
                           "that is not the one sent.")),
    "five-clients": (N_("five clients at once"),
                     N_("5 connections open together, each uploading and downloading a file of 10 to 100 KB, none "
                        "closing before all are done"),
                     N_("A server has many clients; one must not wait for another to leave.")),
    "large-file": (N_("a 200 MiB file up and down"),
                   N_("200 MiB up, then down, on a clean link, while the sandbox samples the server's resident "
                      "memory"),
                   N_("A file can be larger than the memory a server may use: it must move through in pieces.")),
}

HINTS = {
    "split": N_("粘包's other half, the missing loop: a header written in two pieces was read cut. recv(n) returns "
                "what has arrived, at most n bytes: loop until the 4 bytes of the length have arrived, then until "
                "the JSON header's length has (a recv_exactly(conn, n) helper), and only then json.loads it."),
    "stuck": N_("粘包: the header and the file's first bytes, sent in one write, were parsed together (json.loads "
                "of everything one recv() returned fails on the bytes after the header). Read the 4-byte length, "
                "then exactly that many bytes of header: the bytes after them are the file's."),
    "said-no": N_("A request that follows the protocol was refused: are the header's fields read as the protocol "
                  "names them (cmd, filename, size, md5), and the file's N bytes read in full, in a loop, before "
                  "their MD5 is compared?"),
    "wrong-header": N_("The download was announced with another size or MD5 than the file uploaded: was the upload "
                       "stored whole (every recv() written, in a loop until N bytes)? Are the reply's size and md5 "
                       "the stored file's?"),
    "short": N_("The download's bytes stopped before the size its reply announced: send the whole file, in a loop "
                "over its pieces, with sendall()."),
    "mismatch": N_("The download's bytes are not the ones its MD5 announced: send the file's bytes exactly, every "
                   "piece once and in order, with sendall()."),
    "bad-reply": N_("The reply did not start with a 4-byte length and a JSON header {\"ok\": ...}: frame every "
                    "reply as the protocol says, a refusal too."),
    "no-reply": N_("No reply came: the server waits for bytes that are not coming (more than a header or a size "
                   "announced?), or never answers this request."),
    "md5": N_("The upload was accepted though its bytes do not match the header's md5: feed each piece to "
              "hashlib.md5().update() as it arrives and compare the hexdigest() with the header's md5 before "
              "replying {\"ok\": true}."),
    "temporary": N_("A file that was not checked could be read under its final name: write an upload to a "
                    "temporary name (tempfile.mkstemp(dir=DIR)) and os.replace() it to DIR/NAME only after its MD5 "
                    "matched; remove the temporary file when it does not, or when the client vanishes."),
    "trust": N_("Never trust a name from the network: a NAME that contains '/' or is '', '.' or '..' leads out of "
                "DIR (os.path.join(DIR, '../x') is beside DIR; os.path.join(DIR, '/etc/passwd') is /etc/passwd). "
                "Refuse it with {\"ok\": false, \"error\": ...} before touching the disk."),
    "missing": N_("A get of a file that does not exist must be answered {\"ok\": false, \"error\": ...}, and the "
                  "connection goes on: catch FileNotFoundError for that one request."),
    "slurp": N_("Stream, don't slurp: the server's resident memory reached {peak} MiB while the {size} MiB file "
                "moved, over the {limit} MiB limit. Receive into the file piece by piece (recv(65536), write, "
                "md5.update) and send it the same way (read(65536), sendall); never read() or recv() a whole file."),
    "refused": N_("The server did not accept the connection: is it still running, and back at accept() after "
                  "each client?"),
    "one-request": N_("The server closed the connection after answering a request: keep serving requests on a "
                      "connection — after an {\"ok\": false} reply too — until the client closes it (recv() "
                      "returns b'')."),
    "concurrent": FRAMING_HINTS["concurrent"],  # the same lesson, the same words
    "closed": FRAMING_HINTS["closed"],
}
HEADER_TROUBLE = {"said-no", "closed", "no-reply", "bad-reply"}  # a request whose header was misread ends so


def hint(case, failure):
    """The hint for a case's first failure: the lesson its case tests, else what the request's shape shows."""
    verdict, shape = failure["verdict"], failure.get("shape")
    if case == "traversal":
        return _(HINTS["trust"])  # anything but a refusal: the name was not refused before it was used
    if verdict == "memory":
        return _(HINTS["slurp"]).format(peak=failure["peak_mib"], size=failure["size_mib"], limit=failure["limit_mib"])
    if verdict == "no-samples":
        return ""  # the lab's miss, not the program's
    if verdict in ("said-yes", "on-disk") and case in ("wrong-md5", "vanished-upload"):
        return _(HINTS["md5" if verdict == "said-yes" and failure["cmd"] == "put" else "temporary"])
    if case == "missing-file" and failure.get("refused"):
        return _(HINTS["missing"])
    if verdict == "closed" and not failure.get("got") and failure.get("nth") and shape == "whole":
        return _(HINTS["one-request"])  # a whole request, after one answered on the same connection
    if verdict in HEADER_TROUBLE and shape in ("split", "split-length", "stuck"):
        return _(HINTS["stuck" if shape == "stuck" else "split"])
    if verdict == "no-reply" and (case == "five-clients" or failure.get("when") == "during"):
        return _(HINTS["concurrent"])  # another client was served meanwhile, or should have been
    return _(HINTS.get(verdict, HINTS["closed"]))


def request_words(failure):
    """The request that went wrong, in words: `put "one-mib.bin" (1048576 B, header in two writes)`."""
    name = json.dumps(failure.get("name", ""), ensure_ascii=False)
    if failure.get("when") == "during":
        said = _("get {name} from another client, the upload half done").format(name=name)
    elif failure.get("when") == "after":
        said = _("get {name} from a new client, its uploader gone").format(name=name)
    elif failure["cmd"] == "put":
        said = {"stuck": _("put {name} ({size} B, header and first bytes in one write)"),
                "split": _("put {name} ({size} B, header in two writes)"),
                "split-length": _("put {name} ({size} B, its 4-byte length in two writes)")}.get(
            failure.get("shape"), _("put {name} ({size} B)")).format(name=name, size=failure.get("size", 0))
    else:
        said = {"split": _("get {name}, header in two writes"),
                "split-length": _("get {name}, its 4-byte length in two writes")}.get(
            failure.get("shape"), _("get {name}")).format(name=name)
    return _("client {client}, {request}").format(client=failure["client"] + 1, request=said) \
        if "client" in failure else said


def told(failure):
    """What went wrong, in words."""
    verdict = failure["verdict"]
    if verdict == "on-disk":
        return _("{name} is on the server's disk ({size} B) though its upload failed").format(
            name=json.dumps(failure["name"], ensure_ascii=False), size=failure["size"])
    if verdict == "outside":
        return _("{path} was written beside DIR ({size} B)").format(path=failure["path"], size=failure["size"])
    if verdict == "memory":
        return _("resident memory reached {peak} MiB, over {limit} MiB").format(peak=failure["peak_mib"],
                                                                               limit=failure["limit_mib"])
    if verdict == "no-samples":
        return _("the sandbox took no sample of the server's memory while the file moved")
    what = request_words(failure)
    text = {
        "said-no": _("{what}: the server answered ok: false ({error})"),
        "said-yes": _("{what}: the server answered ok: true") if "header_size" not in failure else
        _("{what}: the server answered ok: true, a file of {size} B"),
        "wrong-header": _("{what}: announced as {size} B with MD5 {md5}"),
        "short": _("{what}: {received} of {size} B came, then {stopped}"),
        "mismatch": _("{what}: the bytes differ from their MD5"),
        "bad-reply": _("{what}: the reply is not a length and a JSON header"),
        "no-reply": _("{what}: no reply in time"),
        "refused": _("{what}: could not connect ({error})"),
    }.get(verdict, _("{what}: the connection was closed"))
    return text.format(what=what, error=failure.get("error", ""), size=failure.get("header_size", failure.get("size")),
                       md5=failure.get("header_md5"), received=failure.get("received"), stopped=failure.get("stopped"))


def left_on_disk(case, outcome, disk):
    """The outcome with a failure for a file the server left where none may be: a name of the case's
    `absent` in DIR, or (traversal) anything beside DIR. disk: on_disk()'s listing."""
    if outcome["failure"]:
        return outcome
    found = [{"verdict": "on-disk", "cmd": "put", "name": name, "size": disk["store"][name]}
             for name in outcome.get("absent", []) if name in disk["store"]]
    if case == "traversal":
        found += [{"verdict": "outside", "path": path, "size": size} for path, size in disk["outside"].items()]
    return {**outcome, "failure": found[0] if found else None}


def case_step(case, outcome, disk=None):
    """A case's step from the checker's outcome and (for the cases that leave files or must not) the disk."""
    title, does, why = CASES[case]
    outcome = left_on_disk(case, outcome, disk) if disk is not None else outcome
    failure = outcome["failure"]
    return Step(
        case, _(title), passed=failure is None,
        expected=_("{does}: every reply as the protocol says").format(does=_(does)),
        observed=_("{right}/{planned} requests answered right").format(right=outcome["right"],
                                                                       planned=outcome["planned"])
        + (_("; {failure}").format(failure=told(failure)) if failure else ""),
        why=_(why), facts={**outcome, **({"disk": disk} if disk is not None else {})},
        hint=hint(case, failure) if failure else "")


def memory(outcome, usage, span, limit_mib=MEMORY_MIB):
    """The resident memory while the large file moved: its peak (MiB, the sample in force at the span's start
    counted) and the samples around the span as [[seconds from its start, MiB]]."""
    rss = [[at, kib] for at, _threads, kib, _cpu in usage]
    peak = round(most_during(rss, [span]) / 1024, 1)
    start, end = span
    shown = [[round(at - start, 3), round(kib / 1024, 1)] for at, kib in rss if start - 1 <= at <= end + 1]
    phases = {cmd: [round(a - start, 3), round(b - start, 3)] for cmd, (a, b) in outcome.get("spans", {}).items()}
    return {"peak_mib": peak, "limit_mib": limit_mib, "size_mib": outcome["size"] >> 20, "samples": shown,
            "phases": phases, "seconds": round(end - start, 3)}


def large_step(outcome, usage, span, limit_mib=MEMORY_MIB):
    """large-file: both transfers right, and the server's resident memory under the limit all the while
    (no sample is no evidence)."""
    used = memory(outcome, usage, span, limit_mib)
    if not outcome["failure"] and not 0 < used["peak_mib"] < limit_mib:
        outcome = {**outcome, "failure": {"verdict": "memory" if used["peak_mib"] else "no-samples", **used}}
    step = case_step("large-file", outcome)
    seconds = {r["cmd"]: r["seconds"] for r in outcome["requests"] if "seconds" in r}
    step.observed = _("up in {put} s, down in {get} s; resident memory at most {peak} MiB; {observed}").format(
        put=seconds.get("put", "–"), get=seconds.get("get", "–"), peak=used["peak_mib"], observed=step.observed)
    step.expected = _("{size} MiB up, then down, each byte right, the server's resident memory under {limit} MiB "
                      "all the while (sampled every 10 ms)").format(size=used["size_mib"], limit=limit_mib)
    step.facts["memory"] = used
    return step


def on_disk(node, base):
    """{"store": {name: bytes}, "outside": {path: bytes}}: the files under base as the node has them, those in
    DIR (base/store) by name, any other by its path under base."""
    listing = node.run(["find", base, "-mindepth", "1", "!", "-type", "d", "-printf", r"%P\t%s\n"]).stdout
    disk = {"store": {}, "outside": {}}
    for line in listing.decode(errors="replace").splitlines():
        path, size = line.rsplit("\t", 1)
        folder, _slash, name = path.partition("/")
        if folder != "store":
            disk["outside"][path] = int(size)
        elif "/" not in name:  # a server's own folders inside DIR (temporary files) are its business
            disk["store"][name] = int(size)
    return disk


def steps_from(got, disk, record, limit_mib=MEMORY_MIB):
    """The steps of the cases the checker ran, from its results, the server's disk and the sandbox's record."""
    cases = got["cases"]
    steps = [case_step(case, cases[case], disk) for case in IMPAIRED if case in cases]
    if "large-file" in cases:
        steps.append(large_step(cases["large-file"], record.get("usage") or [], got["timing"]["large-file"][0],
                                limit_mib))
    return steps


def driven(client, port, seed, progress):
    """The checker's cases from client1: all but the large file over a delayed, lossy link, then the large
    file on a clean one (an impairment holds every packet in user space: 200 MiB would take minutes)."""
    def cases(*names):
        return client.program("checkers.file_transfer", "server", port, "--seed", seed, "--large-mib", LARGE_MIB,
                              "--cases", ",".join(names), timeout=240)
    progress(_("{exercise}: the cases from client1, its packets {delay} ms late and {loss} lost (about 15 s)").format(
        exercise=NAME, delay=DELAY_MS, loss=LOSS))
    with client.impaired(delay=f"{DELAY_MS}ms", loss=LOSS):
        small = cases(*IMPAIRED)
    progress(_("{exercise}: {size} MiB up and down on a clean link").format(exercise=NAME, size=LARGE_MIB))
    large = cases("large-file")
    return {"cases": {**small["cases"], **large["cases"]}, "timing": {**small["timing"], **large["timing"]}}


def check(lab, program, progress, seed):
    server, client = lab.node("server"), lab.node("client1")
    progress(_("{exercise}: starting {file} on server").format(exercise=NAME, file=program.path.name))
    port, base = lab.exercise_port(), f"/tmp/socklab-files-{uuid.uuid4().hex[:10]}"
    store = f"{base}/store"  # DIR; a name that escapes it lands in base, where the sandbox user may write too
    owner = str(SANDBOX_UID)
    server.run(["install", "-d", "-o", owner, "-g", owner, "-m", "0755", base, store])
    try:
        with program.serving(server, port, store, usage=True, fsize_mib=FSIZE_MIB) as running:
            steps = [_steps.started(running, port)]
            if running.ready:
                got = driven(client, port, seed, progress)
                disk = on_disk(server, base)
                lasted = _steps.survived(running)
                record = lasted.facts["record"]
                steps = _steps.after_the_end(steps + steps_from(got, disk, record), got["timing"], record) + [lasted]
    finally:
        server.run(["rm", "-rf", "--", base])  # 400 MiB and more: not left for the next check
    return steps + [_steps.clean([server])]
