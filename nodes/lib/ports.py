"""Each node program's default port: the programs listen there and the orchestrator connects there.

One table, imported on both sides, so a port is written once.
"""
STICKY = 9000          # nodes.receiver / nodes.sender: raw TCP and UDP, no framing (the sticky lesson)
STICKY_UDP_LOSS = 9001  # the same pair, UDP under loss
STICKY_TCP_LOSS = 9002  # the same pair, TCP under loss
FRAMED = 9300          # nodes.framed recv / send: the framing fix
FRAMED_BENCH = 9400    # nodes.framed sink / source: the framing benchmark
EXECD_FRAMED = 7000    # nodes.execd: the framed remote shell
EXECD_NAIVE = 7001     # nodes.execd: the course's naive remote shell, unsafe by design
TICKETS = 7100         # nodes.tickets serve: the ticket store
REQSERVER = 7200       # nodes.reqserver / nodes.reqclient: the concurrency lesson; nodes.pools serve, its protocol
QUEUES = 7300          # nodes.queues broker: the producer-consumer broker
QUEUE_BASELINE = 7301  # nodes.queuebase: the bare manager queue the benchmark compares with
IOMODELS = 7400        # nodes.iomodels serve: the io-models lesson's servers, one model at a time
HANDSHAKE = 9200       # nodes.handshake talk-server / talk: the conversation the handshake lesson captures
HANDSHAKE_BACKLOG = (9201, 9202)  # nodes.handshake backlog-server: the short hold and the long one
# a learner's server under `socklab check` (nodes.sandbox runs it, nodes.checkers drive it): each check the next
# port of the range, so that a port an earlier program left in TIME_WAIT (it closed a connection first) is not
# the next one's, whose bind() without SO_REUSEADDR would fail for a minute
EXERCISE = range(9510, 9600)
PINGER_ECHO = 9501     # nodes.checkers.pinger: the lossy UDP echo server a learner's pinger is checked against
EXERCISE_BROKER = 9502  # nodes.queues broker for the reliable-consumer exercise (a fresh one per check)
