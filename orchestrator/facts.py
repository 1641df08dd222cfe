"""A step's facts for people: rows of a table, each fact's key with a label in the reader's language where it
has one, its value said as words and numbers. The facts themselves never change: JSON keeps them as they are.
"""
import json

from orchestrator.i18n import N_, _

LABELS = {
    "port": N_("port"),
    "seconds": N_("seconds"),
    "exit_code": N_("exit code"),
    "signal": N_("signal"),
    "timed_out": N_("stopped at the time limit"),
    "flooded": N_("stopped for printing too much"),
    "ready": N_("ready"),
    "alive": N_("still running"),
    "stderr_tail": N_("the end of its stderr"),
    "stdout_bytes": N_("bytes on stdout"),
    "stderr_bytes": N_("bytes on stderr"),
    "outlived": N_("processes left after it ended"),
    "left": N_("processes left running"),
    "record": N_("the program's run"),
    "lost": N_("lost"),
    "duplicates": N_("duplicates"),
    "added_ms": N_("delay added (ms)"),
    "after_p50_ms": N_("median RTT after (ms)"),
    "before_p50_ms": N_("median RTT before (ms)"),
    "during_p50_ms": N_("median RTT during (ms)"),
    "alive_right_after_terminate": N_("alive right after terminate()"),
    "alive_with_parent": N_("alive while its parent runs"),
    "answered": N_("answered"),
    "broker": N_("the broker's counts"),
    "bytes_per_datagram": N_("bytes charged per datagram"),
    "checked": N_("checked"),
    "checker": N_("the history checker's verdict"),
    "checks": N_("checks"),
    "child": N_("child pid"),
    "clients": N_("clients"),
    "command_s": N_("each command's seconds"),
    "consumer": N_("consumer"),
    "cores": N_("cores"),
    "count_left": N_("tickets left"),
    "daemon": N_("daemon pid"),
    "daemon_gone": N_("the daemon was gone"),
    "datagrams": N_("datagrams"),
    "delay_ms": N_("delay (ms)"),
    "dgram": N_("SOCK_DGRAM"),
    "differ": N_("differ"),
    "done": N_("done"),
    "done_s": N_("`done` at (s)"),
    "dropped": N_("dropped"),
    "due_timeout": N_("timeouts due"),
    "end_s": N_("`main: end` at (s)"),
    "errors": N_("errors"),
    "exitcode": N_("exit code (`Process.exitcode`)"),
    "fit": N_("fit in the buffer"),
    "forged_error": N_("the wrong key's error"),
    "forged_exit": N_("the wrong key's exit code"),
    "frame": N_("the frame"),
    "from_lines": N_("from its lines"),
    "gone_after": N_("gone after the parent exited"),
    "gone_s": N_("all gone at (s)"),
    "holder": N_("the lock's holder"),
    "join_after_last_task_done_ms": N_("join() returned after the last task_done() (ms)"),
    "join_s": N_("join() waited (s)"),
    "late": N_("the late buyer"),
    "lease_s": N_("lease (s)"),
    "limit_seconds": N_("time limit (s)"),
    "lost_count": N_("lost"),
    "lost_pairs": N_("pairs that lost echoes"),
    "models": N_("per server model"),
    "new_ppid": N_("its parent now"),
    "new_run": N_("a new run"),
    "node": N_("node"),
    "off": N_("off"),
    "one_core_slowdown": N_("slowdown on one core"),
    "option_bytes": N_("TCP option bytes"),
    "ordinary": N_("ordinary child pid"),
    "ordinary_alive_then": N_("the ordinary child still ran"),
    "orphans": N_("orphans"),
    "other": N_("the other buyer"),
    "output_on_server_stdout": N_("output on the server's own stdout"),
    "p50_over_p95": N_("p50 / p95"),
    "parent": N_("parent pid"),
    "parent_alive_then": N_("the parent still ran"),
    "payload_bytes": N_("payload bytes"),
    "peak_overlap": N_("most commands at one instant"),
    "per_node": N_("per node"),
    "pill_consumers": N_("consumers stopped by pills"),
    "pings": N_("pings"),
    "popen": N_("through Popen"),
    "processes_to_threads": N_("processes' time / threads' time"),
    "producer_exit": N_("the producer's exit code"),
    "program_seconds": N_("the program's seconds"),
    "ratio": N_("ratio"),
    "rcvbuf": N_("SO_RCVBUF read back (bytes)"),
    "rcvbuf_set": N_("SO_RCVBUF set (bytes)"),
    "records": N_("the programs' runs"),
    "redelivered": N_("redelivered"),
    "replies": N_("replies"),
    "result": N_("result"),
    "results": N_("results"),
    "rtt_p50_all_ms": N_("median RTT of all pairs (ms)"),
    "rtt_p50_same_machine_ms": N_("median RTT within one machine (ms)"),
    "rtt_p50_across_machines_ms": N_("median RTT between machines (ms)"),
    "rtt_p50_ms": N_("median RTT per pair (ms)"),
    "said_timeout": N_("timeouts said"),
    "sent": N_("sent"),
    "seqs": N_("sequence numbers"),
    "server_intervals": N_("when each command ran on the server"),
    "servers": N_("servers"),
    "service_ips": N_("each service's addresses"),
    "side_effect": N_("the command ran anyway"),
    "size": N_("size (bytes)"),
    "ssh": N_("through SSH"),
    "stream": N_("SOCK_STREAM"),
    "summary": N_("the summary line"),
    "survived": N_("survived"),
    "system": N_("through os.system"),
    "task_done_consumers": N_("consumers that called task_done()"),
    "terminate_to_end_s": N_("from terminate() to the end (s)"),
    "ticks": N_("ticks"),
    "token": N_("token"),
    "unfenced_write": N_("a write without a token"),
    "waited_s": N_("waited (s)"),
    "window_bytes": N_("window (bytes)"),
    "window_scale": N_("window scale"),
    "with_lock_s": N_("with the lock (s)"),
    "without_lock_s": N_("without the lock (s)"),
    "work_left_s_at_most": N_("work left at the last put, at most (s)"),
    "work_ms": N_("work per item (ms)"),
    "worker_error": N_("the keyless node's error"),
    "wrong": N_("wrong answers"),
    "messages": N_("messages"),
    "reads": N_("reads"),
    "merged_reads": N_("reads that held several messages"),
    "split_messages": N_("messages split across reads"),
    "messages_per_read": N_("messages per read"),
    "written": N_("bytes written"),
    "read": N_("bytes read"),
    "recvs": N_("bytes per recv()"),
    "pieces": N_("(message, bytes) in each read"),
    "leftover_in_second_read": N_("message 0's bytes in the second read"),
    "second_read_head": N_("the second read's first bytes"),
    "message_0_at_offset": N_("message 0's bytes at that offset"),
    "message_1_head": N_("message 1's first bytes"),
    "arrival_order": N_("arrival order"),
    "max_dgram_qlen": N_("datagrams the queue holds"),
    "longest_send_ms": N_("longest sendto() (ms)"),
    "sender_blocked": N_("the sender waited"),
    "in_order": N_("in order"),
    "sends": N_("bytes per send()"),
    "segments": N_("bytes per TCP segment"),
    "nodelay": N_("TCP_NODELAY"),
}
TEXT = 1500  # characters of a text fact on the page (result.json has all of it)
ITEMS = 10  # items of a list fact on the page
DEPTH = 2  # levels of nested facts flattened into rows (`record.exit_code`); deeper ones are summed up


def rows(facts):
    """A step's facts for people: [{key, label, value}], nested dicts flattened into rows (`record.exit_code`),
    values said as words and numbers, long texts and lists cut with a count; label is "" for a fact of no
    common name (the page shows its key)."""
    found = []

    def add(key, value, depth):
        if isinstance(value, dict) and value and depth < DEPTH:
            for inner, item in value.items():
                add(f"{key}.{inner}", item, depth + 1)
            return
        name = key.rsplit(".", 1)[-1]
        label = _(LABELS[name]) if name in LABELS else ""
        found.append({"key": key, "label": label if label != name else "", "value": text(key, value)})

    for key, value in facts.items():
        add(str(key), value, 0)
    return found


def text(key, value):
    """One fact's value in words: yes/no, numbers as numbers, lists shortened with their count, a long text cut
    (at its start for a program's stderr, whose end matters)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        if len(value) <= TEXT:
            return value
        return "… " + value[-TEXT:] if "stderr" in key else value[:TEXT] + " …"
    if not value:
        return _("none")
    if isinstance(value, list):
        shown = _(", ").join(text(key, item) if not isinstance(item, (dict, list)) else compact(item)
                             for item in value[:ITEMS])
        return shown if len(value) <= ITEMS else _("{items} … ({count} in all)").format(items=shown, count=len(value))
    return compact(value)


def compact(value):
    """A nested value too deep for rows: compact JSON, cut."""
    said = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return said if len(said) <= 300 else said[:300] + " …"
