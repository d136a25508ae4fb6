"""Tries the network: a TCP server the test runs on the host's loopback, a public address, DNS."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": r'''import socket
tries = {}
for host, port in [("127.0.0.1", @PORT@), ("1.1.1.1", 53), ("pypi.org", 443)]:
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.sendall(b"@MARKER@")
        tries[host] = "connected"
    except OSError as e:
        tries[host] = type(e).__name__
print(tries)

def add(a, b):
    return 0
'''}
EXPECT = {"status": "ok", "score": 0}


def check(student, ctx):
    assert not ctx["connections"], f"the sandbox reached the host's TCP server: {ctx['connections']}"
