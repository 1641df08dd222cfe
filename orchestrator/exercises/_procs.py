"""Reading the sandbox's watch: the learner's processes every 10 ms ([[seconds, [[pid, ppid, state, args]]]]),
on one clock with its output lines ([[seconds, line]])."""


def root(watch):
    """The program's main process: in the first snapshot, the one whose parent is not one of its own."""
    for _, table in watch:
        pids = {row[0] for row in table}
        for pid, ppid, _, _ in table:
            if ppid not in pids:
                return pid
    return None


def alive_until(watch, pid):
    """The time of the last snapshot in which pid was there (and not a zombie)."""
    times = [at for at, table in watch if any(row[0] == pid and row[2] != "Z" for row in table)]
    return times[-1] if times else None


def strangers(watch, main):
    """Processes seen while main ran whose parent was not main: {pid: [ppid, args]}."""
    seen = {}
    for at, table in watch:
        if not any(row[0] == main and row[2] != "Z" for row in table):
            continue
        for pid, ppid, _, args in table:
            if pid != main and ppid != main:
                seen[pid] = [ppid, args]
    return seen


def lasting_zombies(watch, seconds=1.0):
    """{pid: how long it was seen a zombie} for those that stayed one for at least `seconds`."""
    first, last = {}, {}
    for at, table in watch:
        for pid, _, state, _ in table:
            if state == "Z":
                first.setdefault(pid, at)
                last[pid] = at
    return {pid: round(last[pid] - first[pid], 2) for pid in first if last[pid] - first[pid] >= seconds}


def gone_at(watch, after):
    """The time of the first snapshot at or after `after` in which none of the program's processes is left."""
    return next((at for at, table in watch if at >= after and not table), None)


def first_line(lines, text):
    """The time of the first output line that holds text, or None."""
    return next((at for at, line in lines if text in line), None)
