"""The homemade "ssh": execd's naive protocol breaks, its framed one is exact, and real SSH agrees with it.

execd (nodes/execd.py) runs on the server; rexec (nodes/rexec.py) and paramiko (nodes/sshexec.py) run on
the clients. SSH keys are made in the nodes for this lab: a host key on the server, a user key on each
client, each client's known_hosts filled from the server itself.
"""
import hashlib
import json
import statistics
import time
from contextlib import contextmanager

from nodes.lib import ports
from orchestrator.i18n import N_, _
from orchestrator.node import at_once, program_argv
from orchestrator.result import Step
from orchestrator.watch.timeline import stream_events

NAME = "remote-exec"
SUMMARY = N_("a socket + subprocess remote shell: the naive protocol's leftover bug, framing's exactness, "
             "os.system, real SSH, auth, concurrency, timeouts")
NOTES = [N_("execd's naive port (7001) is the course's protocol, kept to reproduce its bug: unsafe by design, on the "
            "lab network only, and behind the same lab key as the framed port. Never expose either to anything "
            "else.")]
PARAMS = {"repeat": (200, 1, 10_000), "big_mib": (10, 1, 63), "clients_per_node": (5, 1, 50)}
SSHD = ["/usr/sbin/sshd", "-D", "-e", "-o", "HostKey=/etc/ssh/ssh_host_ed25519_key", "-o", "PasswordAuthentication=no",
        "-o", "UsePAM=no", "-o", "PermitRootLogin=prohibit-password"]
SEQ = "seq 1 20000"
SEQ_OUTPUT = "".join(f"{i}\n" for i in range(1, 20001)).encode()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def sequence(p):
    """Commands whose outputs are the same wherever and whenever they run."""
    return ["echo hello", SEQ, "pwd", "echo out; echo err >&2; exit 3", r"printf '\377\376'",
            f"head -c {p['big_mib'] << 20} /dev/zero | tr '\\0' x"]


def prepare_ssh(server, clients):
    """Per-lab SSH keys: the server's host key, each client's user key, authorized_keys and known_hosts."""
    server.run(["sh", "-c", "mkdir -p /run/sshd /root/.ssh && chmod 700 /root/.ssh && "
                "[ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key"])
    host_key = server.run(["cat", "/etc/ssh/ssh_host_ed25519_key.pub"]).stdout.decode().split()[:2]
    keys = []
    for client in clients:
        client.run(["sh", "-c", "mkdir -p /root/.ssh && chmod 700 /root/.ssh && "
                    "[ -s /root/.ssh/id_ed25519 ] || ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519"])
        keys.append(client.run(["cat", "/root/.ssh/id_ed25519.pub"]).stdout.decode().strip())
        client.run(["sh", "-c", 'printf "%s\\n" "$1" > /root/.ssh/known_hosts', "sh", f"server {' '.join(host_key)}"])
    server.run(["sh", "-c", 'printf "%s\\n" "$1" > /root/.ssh/authorized_keys', "sh", "\n".join(keys)])


def naive_events(client, session, whose):
    """Each command's send() and its one recv(1024), as the replay shows them; the stale reply said so."""
    events = []
    for index, reply in enumerate(session["results"]):
        events += stream_events(client.name, "server", "send", [reply["sent_bytes"]], [reply["sent_at"]], session["port"],
                                ports.EXECD_NAIVE, reply["sent_offset"], index, text=reply["command"])
        stale = index == 2 and whose == "seq"
        events += stream_events(client.name, "server", "recv", [reply["reply_size"]], [reply["replied_at"]], session["port"],
                                ports.EXECD_NAIVE, reply["reply_offset"], index, text=reply["reply_head"][:24],
                                **({"note": _("a stale reply: bytes of seq's output, not pwd's")} if stale else {}))
    return events


def naive_step(server, client):
    with server.captured(f"tcp port {ports.EXECD_NAIVE}", "/tmp/naive.pcap") as capture:
        session = client.program("rexec", "server", "--naive", "--json", "echo hello", SEQ, "pwd")
    replies = session["results"]
    pwd = replies[2]
    whose = "seq" if pwd["reply_sha256"] == sha(SEQ_OUTPUT[1024:1024 + pwd["reply_size"]]) else None
    return Step(
        "naive-leftover", _("naive protocol: a reply carries the previous command's leftover"),
        passed=replies[0]["reply_head"] == "hello\n" and whose == "seq",
        expected=_("`{command}` prints {size} bytes but recv(1024) takes 1024; the reply to `pwd` is the next 1024 "
                   "bytes of seq's output, not the working directory").format(command=SEQ, size=len(SEQ_OUTPUT)),
        observed=_("reply to pwd: {size} bytes starting {head}… = bytes 1024–{end} of seq's output ({queued} more "
                   "still queued)").format(size=pwd['reply_size'], head=repr(pwd['reply_head'][:16]),
                                           end=1024 + pwd['reply_size'],
                                           queued=len(SEQ_OUTPUT) - 1024 - pwd['reply_size'])
        if whose else _("reply to pwd: {head}").format(head=repr(pwd['reply_head'][:40])),
        why=_("The naive protocol sends output with no length: the client's one recv(1024) per command cannot "
              "know where a reply ends, so the rest of a long one is read as the answer to the next."),
        facts={"replies": replies, "pwd_reply_from": whose, "seq_output_bytes": len(SEQ_OUTPUT),
               "leftover_in_pwd_reply": pwd["reply_size"] if whose else 0},
        files={"pcap": capture.pcap}, events=naive_events(client, session, whose))


def framed_step(framed, p):
    by = {r["command"]: r for r in framed}
    problems = [r["command"] for r in framed if not r["intact"]]
    checks = {"pwd is pwd": by["pwd"]["stdout_head"] == "/root\n",
              "seq exact": by[SEQ]["stdout_size"] == len(SEQ_OUTPUT) and by[SEQ]["stdout_sha256"] == sha(SEQ_OUTPUT),
              "streams separate": (by["echo out; echo err >&2; exit 3"]["stdout_head"],
                                   by["echo out; echo err >&2; exit 3"]["stderr_head"]) == ("out\n", "err\n"),
              "exit code": by["echo out; echo err >&2; exit 3"]["exit_code"] == 3,
              "non-UTF-8 intact": by[r"printf '\377\376'"]["stdout_sha256"] == sha(b"\xff\xfe"),
              f"{p['big_mib']} MiB intact": framed[-1]["stdout_size"] == p["big_mib"] << 20 and framed[-1]["intact"]}
    # the checks' names are fact keys; people read them in their own language
    labels = {"pwd is pwd": _("pwd is pwd"), "seq exact": _("seq exact"), "streams separate": _("streams separate"),
              "exit code": _("exit code"), "non-UTF-8 intact": _("non-UTF-8 intact"),
              f"{p['big_mib']} MiB intact": _("{size} MiB intact").format(size=p['big_mib'])}
    failed = [name for name, ok in checks.items() if not ok] + problems
    return Step(
        "framed-exact", _("framed protocol: every output exact"),
        passed=not failed,
        expected=_("the same commands over frames: pwd answers pwd, stdout and stderr apart, exit codes kept, "
                   "non-UTF-8 bytes and a {size} MiB output intact (sha256 from the server = sha256 "
                   "received)").format(size=p['big_mib']),
        observed=_("all exact: {checks}").format(checks=", ".join(labels[name] for name in checks)) if not failed
        else _("failed: {failed}").format(failed=[labels.get(name, name) for name in failed]),
        why=_("Each result is a frame whose header gives stdout's and stderr's sizes, the exit code and sha256s: "
              "the client reads exactly that many bytes, never more."),
        facts={"checks": checks, "results": [{k: r[k] for k in ("command", "exit_code", "stdout_size", "stderr_size",
                                                                  "stdout_sha256", "intact", "duration")}
                                             for r in framed]})


def system_step(client, execd):
    command = "echo from-os-system; exit 3"
    popen = client.program("rexec", "server", "--json", command)["results"][0]
    system = client.program("rexec", "server", "--json", "--runner", "system", command)["results"][0]
    on_server = b"from-os-system" in execd.stdout
    return Step(
        "os-system-vs-popen", _("os.system vs Popen"),
        passed=popen["stdout_head"] == "from-os-system\n" and system["stdout_size"] == 0 and on_server
        and system["wait_status"] == 3 << 8 and system["exit_code"] == 3,
        expected=_("Popen with pipes returns the output to the client; os.system returns only a wait status, and "
                   "the output goes to the server's own terminal"),
        observed=_("Popen: stdout {popen_stdout}, exit {popen_exit}; os.system: {system_size} bytes to the client, "
                   "returned {wait_status} (exit code {system_exit}); the text appeared on execd's own stdout: "
                   "{on_server}").format(popen_stdout=repr(popen['stdout_head']), popen_exit=popen['exit_code'],
                                         system_size=system['stdout_size'], wait_status=system['wait_status'],
                                         system_exit=system['exit_code'], on_server=on_server),
        why=_("os.system() runs the command attached to the caller's stdout and returns the wait status (exit code "
              "× 256); only pipes let a server capture what a command prints. (The × 256 is POSIX: on Windows, "
              "os.system() returns the exit code itself.)"),
        facts={"popen": popen, "system": system, "output_on_server_stdout": on_server})


def ssh_step(client, framed, p):
    commands = [r["command"] for r in framed]
    ssh = client.program("sshexec", "server", *commands, timeout=120)["results"]
    differ = [f["command"] for f, s in zip(framed, ssh)
              if (f["exit_code"], f["stdout_sha256"], f["stderr_sha256"]) !=
              (s["exit_code"], s["received_stdout_sha256"], s["received_stderr_sha256"])]
    return Step(
        "ssh-agrees", _("real SSH (paramiko) gives the same outputs"),
        passed=len(ssh) == len(framed) and not differ,
        expected=_("the same commands through openssh-server, key authentication, host key verified from "
                   "known_hosts: identical exit codes, stdout and stderr"),
        observed=_("{same}/{total} commands identical").format(same=len(ssh) - len(differ), total=len(ssh))
        + (_("; differ: {commands}").format(commands=differ) if differ else ""),
        why=_("Both are byte-exact channels with separate streams and an exit status. SSH also encrypts every byte "
              "and authenticates both ends: the client checked the server's host key. execd's HMAC only proves "
              "that the client holds the lab key; the client never checks the server, and commands and outputs "
              "cross the network in clear text."),
        facts={"ssh": ssh, "differ": differ})


def percentiles(samples):
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 3)}


def framed_vs_ssh(client, p):
    """`true` p["repeat"] times and p["big_mib"] MiB of output, through execd and through SSH: latency
    percentiles and throughput. The lesson's step and `make bench` both measure this."""
    framed = client.program("rexec", "server", "--json", "--repeat", p["repeat"], "true", timeout=300)["results"][0]
    ssh = client.program("sshexec", "server", "--repeat", p["repeat"], "true", timeout=300)["results"][0]
    big = sequence(p)[-1]
    framed_big = client.program("rexec", "server", "--json", "--repeat", 3, big, timeout=300)["results"][0]
    ssh_big = client.program("sshexec", "server", "--repeat", 3, big, timeout=300)["results"][0]
    mb = (p["big_mib"] << 20) / 1e6
    facts = {"true": {"framed": percentiles(framed["round_trip_s"]), "ssh": percentiles(ssh["round_trip_s"]),
                      "runs": p["repeat"],
                      "samples_ms": {name: [round(t * 1000, 3) for t in run["round_trip_s"]]
                                     for name, run in (("framed", framed), ("ssh", ssh))}},
             "throughput_mb_s": {"framed": round(mb / statistics.median(framed_big["round_trip_s"]), 1),
                                 "ssh": round(mb / statistics.median(ssh_big["round_trip_s"]), 1)}}
    ratio = facts["true"]["framed"]["p50_ms"] / facts["true"]["ssh"]["p50_ms"]
    facts["p50_ratio_framed_to_ssh"] = round(ratio, 3)
    return facts


def measured_against_ssh(lab, p):
    """framed_vs_ssh() on a lab whose services this starts and stops: what `make bench` reports."""
    server, clients = lab.node("server"), lab.nodes("client")
    with services(server, clients):
        return framed_vs_ssh(clients[0], p)


def compare_step(client, p):
    facts = framed_vs_ssh(client, p)
    ratio = facts["p50_ratio_framed_to_ssh"]
    throughput = facts["throughput_mb_s"]
    faster = "SSH" if throughput["ssh"] > throughput["framed"] else "execd"
    return Step(
        "framed-vs-ssh", _("framed vs SSH: latency and throughput"),
        passed=ratio < 1,
        expected=_("`true` {repeat} times each way: the framed protocol answers faster than SSH").format(
            repeat=p['repeat']),
        observed=_("p50/p95: framed {framed_p50}/{framed_p95} ms, SSH {ssh_p50}/{ssh_p95} ms (framed = {ratio:.2f}× "
                   "SSH); {size} MiB output: framed {framed_mb_s} MB/s, SSH {ssh_mb_s} MB/s").format(
            framed_p50=facts['true']['framed']['p50_ms'], framed_p95=facts['true']['framed']['p95_ms'],
            ssh_p50=facts['true']['ssh']['p50_ms'], ssh_p95=facts['true']['ssh']['p95_ms'], ratio=ratio,
            size=p['big_mib'], framed_mb_s=throughput['framed'], ssh_mb_s=throughput['ssh']),
        why=_("`true` prints nothing, so there is almost nothing to encrypt: what was measured is each protocol's "
              "cost per command. Both start a shell for it; execd answers one framed request with one reply, one "
              "round trip, while SSH opens a channel, asks it to exec, waits for the exit status and closes the "
              "channel: several round trips. For a large output {faster} was faster here: SSH streams output as "
              "the command writes it, while execd holds the whole output in memory and hashes it before the first "
              "byte leaves.").format(faster=faster),
        facts=facts)


def auth_step(server, client, worker):
    marker = f"/tmp/socklab-pwned-{int(time.time() * 1000)}"
    forged = client.run(["sh", "-c", "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /tmp/forged.key && "
                         f"python3 -m nodes.rexec server --key /tmp/forged.key -- touch {marker}"])
    keyless = worker.run(program_argv("rexec", ["server", "--", "touch", marker]))
    ran = server.run(["test", "-e", marker]).exit_code == 0
    said = forged.stderr.decode().strip()
    return Step(
        "auth-refused", _("no key, no command"),
        passed=forged.exit_code != 0 and "authentication failed" in said and keyless.exit_code != 0 and not ran,
        expected=_("a client with a wrong key is refused, a node without the key cannot even try, and nothing "
                   "runs"),
        observed=_("wrong key: {forged_error}; worker: {worker_error}; {marker} exists on the server: "
                   "{ran}").format(forged_error=repr(said), worker_error=repr(keyless.stderr.decode().strip()),
                                   marker=marker, ran=ran),
        why=_("execd sends a random challenge and accepts only HMAC-SHA256(lab key, challenge); the key is "
              "mounted into the server and the clients only, and never crosses the network."),
        facts={"forged_exit": forged.exit_code, "forged_error": said, "worker_error": keyless.stderr.decode().strip(),
               "side_effect": ran})


def peak_overlap(intervals):
    """The most intervals (start, end) that run at one instant."""
    edges = sorted([(start, 1) for start, _end in intervals] + [(end, -1) for _start, end in intervals])
    running = peak = 0
    for _at, change in edges:
        running += change
        peak = max(peak, running)
    return peak


def concurrency_step(clients, p):
    per_node, seconds = p["clients_per_node"], 1.0  # long enough to overlap however slowly the clients start
    def one(args):
        node, i = args
        tag = f"{node.name}-{i}"
        command = f"echo {tag}; date +%s.%N; sleep {seconds}; date +%s.%N"  # when it ran, on the server's clock
        lines = node.program("rexec", "server", "--json", command)["results"][0]["stdout_head"].split()
        return tag, (lines or [""])[0], tuple(map(float, lines[1:3])) if len(lines) >= 3 else None
    jobs = [(node, i) for node in clients for i in range(per_node)]
    started = time.monotonic()
    answers = at_once(one, jobs)
    elapsed = time.monotonic() - started
    wrong = [tag for tag, said, _ran in answers if said != tag]
    intervals = [ran for _tag, _said, ran in answers if ran]
    peak = peak_overlap(intervals)
    return Step(
        "concurrent-clients", _("{count} clients at once").format(count=len(jobs)),
        passed=not wrong and len(intervals) == len(jobs) and peak > len(jobs) / 2
        and elapsed < len(jobs) * seconds / 2,
        expected=_("{count} clients from {nodes} client nodes each run a {seconds} s command at once: every one "
                   "gets its own answer, and the commands run on the server at the same time").format(
            count=len(jobs), nodes=len(clients), seconds=seconds),
        observed=_("{correct}/{count} correct in {elapsed:.2f} s (one after another: {serial_seconds:.1f} s); at "
                   "most {peak} commands were running on the server at one instant").format(
            correct=len(jobs) - len(wrong), count=len(jobs), elapsed=elapsed, serial_seconds=len(jobs) * seconds,
            peak=peak)
        + (_("; wrong: {tags}").format(tags=wrong) if wrong else ""),
        why=_("execd serves each connection in a thread of its own; the commands wait on the OS, not on each "
              "other. A server that took one connection at a time would show one command at a time."),
        facts={"clients": len(jobs), "seconds": round(elapsed, 3), "command_s": seconds,
               "peak_overlap": peak, "server_intervals": [[round(a, 3), round(b, 3)] for a, b in intervals],
               "wrong": wrong})


def timeout_step(server, client):
    result = client.program("rexec", "server", "--json", "sleep 1000 & sleep 1000; echo never")["results"][0]
    left = server.leftovers("sleep 1000")
    return Step(
        "command-timeout", _("a command that never ends"),
        passed=result["timed_out"] and result["exit_code"] == -9 and not left,
        expected=_("execd kills the whole process group at its time limit, reports it, and leaves no process or "
                   "zombie behind"),
        observed=(_("timed out: {timed_out}, killed by signal {signal} (Popen's returncode {returncode}) after "
                    "{duration:.1f} s; left on the server: {left}") if result["exit_code"] < 0 else
                  _("timed out: {timed_out}, exit {returncode} after {duration:.1f} s; left on the server: {left}"))
        .format(timed_out=result['timed_out'], signal=-result['exit_code'], returncode=result['exit_code'],
                duration=result['duration'], left=left or _("nothing")),
        why=_("The command runs in a session of its own (start_new_session), so killpg() reaches the background "
              "sleep too; wait() reaps the shell."),
        facts={"result": {k: result[k] for k in ("timed_out", "exit_code", "duration")},
               "left": left})


@contextmanager
def services(server, clients):
    """execd and sshd served on the server for the length of a `with` block; yields execd."""
    with server.serve("execd", "--timeout", 3, "--idle", 10) as execd:
        prepare_ssh(server, clients)
        with server.serve(SSHD, ready="Server listening"):
            yield execd


def execd_counts(execd):
    """The counts execd printed as its last line when it was stopped."""
    out = execd.wait(10).stdout.strip()
    return json.loads(out.splitlines()[-1]) if out else {}


def run(lab, params, progress):
    server, clients = lab.node("server"), lab.nodes("client")
    client = clients[0]
    progress(_("starting execd and sshd on the server, with this lab's keys"))
    with services(server, clients) as execd:
        progress(_("naive, framed and os.system"))
        steps = [naive_step(server, client)]
        framed = client.program("rexec", "server", "--json", *sequence(params), timeout=120)["results"]
        steps += [framed_step(framed, params), system_step(client, execd)]
        progress(_("real SSH, then `true` {repeat} times each way").format(repeat=params['repeat']))
        steps += [ssh_step(client, framed, params), compare_step(client, params)]
        progress(_("authentication, concurrency, timeouts"))
        steps += [auth_step(server, client, lab.nodes("worker")[0]), concurrency_step(clients, params),
                  timeout_step(server, client)]
    steps[-1].facts["execd_counts"] = execd_counts(execd)
    return steps
