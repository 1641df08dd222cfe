"""The lab's side of `socklab check`: peers that drive a learner's program the way naive code breaks.

`python3 -m nodes.checkers.<exercise> ...` prints one JSON result: for each case, what was sent and what
came back, classified (`ok`, `short`, `merged`, `swapped`, `mismatch`, `no-reply`, `closed`, ...). The
orchestrator turns those into steps and names the lesson at fault; the checkers judge nothing themselves.
"""
