"""A queue's history checked in the manner of Jepsen's total-queue: was every produced id consumed, once?"""
from collections import Counter


def check(produced, consumed):
    """Facts about a history: produced ids against consumed ids (each consumption once, in any order).

    lost: produced, never consumed; duplicated: consumed more than once (with how often); unexpected:
    consumed, never produced. ok: nothing lost and nothing unexpected (duplicates are reported apart: an
    at-least-once queue may have them).
    """
    produced_set, counts = set(produced), Counter(consumed)
    lost = sorted(produced_set - counts.keys())
    duplicated = {task: n for task, n in sorted(counts.items()) if n > 1}
    unexpected = sorted(counts.keys() - produced_set)
    return {"produced": len(produced_set), "consumed": sum(counts.values()), "distinct_consumed": len(counts),
            "lost": lost, "lost_count": len(lost), "duplicated": duplicated,
            "duplicated_count": sum(n - 1 for n in duplicated.values()), "unexpected": unexpected,
            "ok": not lost and not unexpected}
