"""tickets: BUYERS processes race for the tickets in DB.  python3 starter.py DB BUYERS
tickets：BUYERS 个进程抢 DB 里的票（竞态条件）。运行：python3 starter.py DB BUYERS

Protocol (see README.md): DB is a JSON file {"count": 1}. Start BUYERS processes; each searches (reads the
count and prints it), then buys: reads the count, waits 0.1 s, and if a ticket is left, writes the count
back one less and prints `buyer K: bought`; else prints `buyer K: sold out`. Exactly one may buy.
协议（见 README.zh-CN.md）：DB 是一个 JSON 文件 {"count": 1}。开启 BUYERS 个进程；每个购票者先查票（读出票数
并打印），然后购票：读出票数，等待 0.1 s，如果还有票，就把票数减一写回去，并打印 `buyer K: bought`；否则打印
`buyer K: sold out`。只能有一个购票者买到。
"""
import json
import sys
import time
from multiprocessing import Process


def buyer(db, k):
    with open(db) as f:
        print(f"buyer {k}: search: {json.load(f)['count']} left", flush=True)
    # TODO: the buy, so that two buyers can never both take the last ticket
    # TODO：购票，并且保证两个购票者永远不会同时拿到最后一张票


def main():
    db, buyers = sys.argv[1], int(sys.argv[2])
    processes = [Process(target=buyer, args=(db, k)) for k in range(1, buyers + 1)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()


if __name__ == "__main__":
    main()
