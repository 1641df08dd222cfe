"""producer-consumer: producers and consumers around one bounded queue.
producer-consumer：围着一个有界队列的生产者和消费者。
    python3 starter.py ITEMS PRODUCERS CONSUMERS MAXSIZE

Protocol (see README.md): each producer P puts ITEMS items named `P-I` into a multiprocessing.Queue of
size MAXSIZE; consumers print `consumed P-I` for each item. The program must end by itself once
everything is consumed.
协议（见 README.zh-CN.md）：每个生产者 P 往一个大小为 MAXSIZE 的 multiprocessing.Queue 里放 ITEMS 个数据，命名为
`P-I`；消费者每取到一个数据，就打印 `consumed P-I`。所有数据都被消费之后，程序必须自己结束。
"""
import sys
from multiprocessing import Process, Queue


def producer(queue, p, items):
    for i in range(1, items + 1):
        queue.put(f"{p}-{i}")


def consumer(queue):
    while True:
        # TODO: how does a consumer learn that it is done?
        # TODO：消费者怎么知道自己该结束了？
        print(f"consumed {queue.get()}", flush=True)


def main():
    items, producers, consumers, maxsize = map(int, sys.argv[1:5])
    queue = Queue(maxsize)
    # TODO: start the producers and the consumers, wait for them, and end
    # TODO：开启生产者和消费者，等待它们，然后结束


if __name__ == "__main__":
    main()
