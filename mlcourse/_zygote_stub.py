"""Stand-in for ``python -m ipykernel_launcher``: get a forked kernel from a zygote.

Run as ``python -I -S _zygote_stub.py SOCKET PIDNS REQUEST_JSON [CGROUP_DIR ...]``
(standard library only, so it starts in milliseconds). It asks the zygote to
fork a kernel, moves the kernel into the given cgroups before the kernel runs
anything, then lives exactly as long as the kernel and exits with its code.
If the stub is killed, the zygote sees the socket close and kills the kernel.
See :mod:`mlcourse.zygote`.
"""

import json
import os
import socket
import sys


def host_pid(pid, pidns):
    """The pid, as seen here, of process ``pid`` of the pid namespace ``pidns``."""
    candidates = [str(pid)] + [e for e in os.listdir("/proc") if e.isdigit() and e != str(pid)]
    for entry in candidates:
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != pidns:
                continue
            with open(f"/proc/{entry}/status") as handle:
                for line in handle:
                    if line.startswith("NSpid:") and line.split()[-1] == str(pid):
                        return int(entry)
        except OSError:
            continue
    raise RuntimeError(f"no process {pid} in {pidns}")


def read_line(conn, timeout=None):
    """One newline-terminated message (or what came before the peer hung up).

    The zygote uses it too (both sides speak the same line protocol).
    """
    conn.settimeout(timeout)
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    conn.settimeout(None)
    return data


def main(argv):
    socket_path, pidns, request, cgroups = argv[0], argv[1], argv[2], argv[3:]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(socket_path)
    conn.sendall(request.encode() + b"\n")
    reply = json.loads(read_line(conn) or b"{}")
    if "pid" not in reply:
        sys.stderr.write(f"mlcourse zygote refused the kernel: {reply}\n")
        return 1
    if cgroups:
        pid = host_pid(reply["pid"], pidns)
        for folder in cgroups:
            with open(f"{folder}/cgroup.procs", "w") as handle:
                handle.write(str(pid))
    conn.sendall(b"go\n")
    reply = json.loads(read_line(conn) or b'{"exit": 1}')
    code = reply.get("exit", 1)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
