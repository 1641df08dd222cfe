"""remote-shell: the learner's server runs commands and frames stdout, stderr and the exit code."""
from orchestrator.exercises import _steps
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "remote-shell"
ROLE = "server"
SUMMARY = N_("a remote shell with a JSON header: big and binary output, stderr, exit codes, deadlocks, 粘包")

# case: (title, what is sent, why it matters)
CASES = {
    "big-output": (N_("100 KB of output"), N_("`seq 1 20000`: 108,894 bytes of stdout"),
                   N_("A reply far larger than any one recv() or send() must arrive whole.")),
    "stderr-only": (N_("output on stderr only"), "`echo oops >&2`",
                    N_("stdout and stderr are two streams: each has its count.")),
    "exit-status": (N_("an exit status"), N_("`exit 3`, then `true`"),
                    N_("Whether a command worked is its exit status, not its output.")),
    "binary": (N_("binary output"), N_(r"`printf '\000\001\377\376\n'`: bytes that are not UTF-8"),
               N_("A command prints bytes; decoding them as text breaks on the first one that is not.")),
    "unicode-then-next": (N_("Chinese output, then another command"),
                          N_("`echo 粘包` (7 bytes, 3 characters), then `echo next`"),
                          N_("The header's counts must be bytes: if they are short, the rest sticks to the next "
                             "reply.")),
    "back-to-back": (N_("20 commands in one write"),
                     N_("`echo 0` … `echo 19`, sent together before any reply is read"),
                     N_("粘包 on the way in: one recv() may hold several requests.")),
    "long-command": (N_("a command longer than 1024 bytes"), N_("`echo` and 2,000 x's"),
                     N_("A request is as long as its length says, not as one recv(1024).")),
    "stderr-first": (N_("1 MB on stderr before any stdout"),
                     N_("`head -c 1000000 /dev/zero | tr '\\000' e >&2; echo out`, 8 s to reply"),
                     N_("A pipe holds 64 KiB: reading one to its end while the other fills deadlocks.")),
    "slow-and-second": (N_("a second client while a command runs 5 s"), N_("`sleep 5; echo slow`, and 0.5 s later "
                        "`echo fast` from another client, which must be answered within 2.5 s"),
                        N_("A slow command must not hold up the other clients.")),
    "vanish-mid-reply": (N_("a client vanishes mid-reply, then a new one"), N_("`seq 1 300000` (2 MB), 100 bytes "
                         "read, close; then `echo alive` from a new client"), N_("A peer can leave at any moment; "
                                                                                 "the server carries on for the "
                                                                                 "others.")),
}

HINTS = {
    "big-output": N_("send() may take fewer bytes than it was given: use sendall(). And read each count with a "
                     "loop."),
    "stderr-only": N_("stderr lost or mixed into stdout: capture both pipes (stdout=PIPE, stderr=PIPE) and send "
                      "each with its own count."),
    "exit": N_("The exit status was lost: take the child's returncode (Popen.wait() or "
               "subprocess.run().returncode); os.system prints the output where nobody reads it, and output or "
               "stderr do not tell success."),
    "binary": N_("Output treated as text: keep the bytes (no text=True, no .decode()). A command's output is "
                 "bytes."),
    "unicode-then-next": N_("粘包 in the replies: the header said fewer bytes than were sent, so the rest stuck to "
                            "the next reply. len() of a str counts characters ('粘包' is 2 characters, 6 bytes in "
                            "UTF-8): count the bytes you send."),
    "back-to-back": N_("粘包 on the way in: when commands arrive together one recv() holds several. Read the 4-byte "
                       "length, then exactly that many bytes, and keep the rest for the next command."),
    "long-command": N_("The command read with a single recv(1024): a longer one arrives cut. Loop until the length "
                       "the prefix announced has arrived."),
    "stderr-first": N_("The stdout-then-stderr deadlock: the command filled the stderr pipe (64 KiB) and waits for "
                       "someone to read it, while the server waits for stdout to end. Read both at once: "
                       "communicate(), or subprocess.run(..., capture_output=True)."),
    "slow-and-second": N_("One client at a time: while one command runs, nobody else is served. Serve each "
                          "connection in a thread (or a process)."),
    "vanish-mid-reply": N_("A client that vanished mid-reply ended the server: BrokenPipeError or "
                           "ConnectionResetError from sendall() belongs to that connection; catch it there."),
    "bad-header": N_("The reply did not start with a 4-byte length and a JSON header {\"stdout\", \"stderr\", "
                     "\"exit_code\"}: frame every reply exactly as the protocol says."),
    "closed": N_("The server closed the connection instead of replying: an exception in its handler? Run it with "
                 "`socklab run server FILE PORT` and watch its stderr."),
    "no-reply": N_("No reply came: the server waits for something that is not coming (more bytes than were "
                   "sent?)."),
}


def hint(case, reply):
    """The hint for a case's first bad reply."""
    verdict = reply["verdict"]
    if verdict == "wrong":
        return _(HINTS.get(case, HINTS["exit"]) if not (reply["stdout_ok"] and reply["stderr_ok"]) else HINTS["exit"])
    if reply.get("previous_output_bytes") or case in ("back-to-back", "long-command", "stderr-first",
                                                       "slow-and-second", "vanish-mid-reply", "binary"):
        return _(HINTS[case])
    return _(HINTS.get(verdict, HINTS["closed"]))


def told(reply):
    """One bad reply, in words."""
    verdict, command = reply["verdict"], f"`{reply.get('command', '')}`"
    if verdict == "wrong":
        stdout = (_("stdout {count} B") if reply["stdout_ok"] else _("stdout {count} B (wrong)")).format(
            count=reply["stdout_bytes"])
        stderr = (_("stderr {count} B") if reply["stderr_ok"] else _("stderr {count} B (wrong)")).format(
            count=reply["stderr_bytes"])
        code = (_("exit code {code}") if reply["exit_ok"] else _("exit code {code} (wrong)")).format(
            code=reply["exit_code"])
        return _("{command}: {stdout}, {stderr}, {exit_code}").format(command=command, stdout=stdout,
                                                                       stderr=stderr, exit_code=code)
    if verdict == "bad-header":
        stuck, text = reply.get("previous_output_bytes"), repr(reply["text"][:24])
        if stuck:
            return _("{command}: the reply began with {text}, not a header: its first {count} bytes are the end of "
                     "the previous command's output").format(command=command, text=text, count=stuck)
        return _("{command}: the reply began with {text}, not a header").format(command=command, text=text)
    if verdict == "short":
        return _("{command}: the reply ended before the counts its header announced").format(command=command)
    if verdict == "refused":
        return _("{command}: could not connect ({error})").format(command=command, error=reply.get("error"))
    if verdict == "no-reply":
        return _("{command}: no reply in time").format(command=command)
    return _("{command}: the connection was closed").format(command=command)


def case_step(case, replies):
    title, sent, why = CASES[case]
    bad = next((r for r in replies if r["verdict"] != "ok"), None)
    right = sum(1 for r in replies if r["verdict"] == "ok")
    return Step(case, _(title), passed=bad is None,
                expected=_("{sent}: every reply framed, with the command's exact stdout, stderr and exit code").format(
                    sent=_(sent)),
                observed=(_("{count} reply right") if right == 1 else _("{count} replies right")).format(count=right)
                + (_("; {failure}").format(failure=told(bad)) if bad else ""),
                why=_(why), facts={"replies": replies}, hint=hint(case, bad) if bad else "")


def check(lab, program, progress, seed):
    return _steps.check_server(lab, program, progress, NAME, "remote_shell", (), lambda got, record: [
        case_step(case, got["cases"][case]) for case in CASES], about=_(" (about 15 s)"))
