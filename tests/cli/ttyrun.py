"""ttyrun.py CMD... - run CMD with standard error (and output) on a pseudo
terminal, as a person at a terminal would, and copy what it wrote there to
our standard output; exit with its status.  For the progress-line tests."""
import os
import pty
import sys


def main():
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(sys.argv[1], sys.argv[1:])
        finally:
            os._exit(127)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:     # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(out)
    sys.exit(os.waitstatus_to_exitcode(status))


main()
