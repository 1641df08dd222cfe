"""Message boundaries against read boundaries: which message's bytes did each read return?

A byte stream keeps the order of bytes but not the writer's boundaries. Given the sizes of the messages
written and the sizes of the chunks read, this says which bytes of which message each chunk held.
"""


def pieces(message_sizes, chunk_sizes):
    """For each chunk, [(message index, bytes of it)] in order; zero-size messages hold no bytes."""
    if sum(chunk_sizes) > sum(message_sizes):
        raise ValueError(f"read {sum(chunk_sizes)} bytes, more than the {sum(message_sizes)} written")
    messages = [(i, size) for i, size in enumerate(message_sizes) if size]
    result, m, used = [], 0, 0
    for chunk in chunk_sizes:
        held, left = [], chunk
        while left:
            index, size = messages[m]
            take = min(left, size - used)
            held.append((index, take))
            left -= take
            used += take
            if used == size:
                m, used = m + 1, 0
        result.append(held)
    return result


def compare(message_sizes, chunk_sizes):
    """Facts: counts of messages and reads, reads that merged messages, messages split across reads."""
    held = pieces(message_sizes, chunk_sizes)
    spans = {}
    for chunk in held:
        for index, unused in chunk:
            spans[index] = spans.get(index, 0) + 1
    return {"messages": len(message_sizes), "reads": len(chunk_sizes),
            "merged_reads": sum(1 for chunk in held if len(chunk) > 1),
            "split_messages": sum(1 for count in spans.values() if count > 1),
            "messages_per_read": [len(chunk) for chunk in held],
            "bytes": {"written": sum(message_sizes), "read": sum(chunk_sizes)}}
