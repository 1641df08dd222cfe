"""Programs that run inside lab nodes: `python3 -m nodes.<program> ARGS`, standard library only.

Each program prints one JSON result line on stdout; on bad input it prints one error line on stderr and
exits non-zero.
"""
