# The PEP 440 oracle: Python's `packaging.version.Version`. One request per line on stdin:
# "P\tv" answers ok/err (does v parse), "C\ta\tb" answers -1/0/1 (or err).
import sys
from packaging.version import InvalidVersion, Version


def parse(s):
    try:
        return Version(s)
    except InvalidVersion:
        return None


for line in iter(sys.stdin.readline, ""):
    parts = line[:-1].split("\t")
    if parts[0] == "P":
        out = "ok" if parse(parts[1]) is not None else "err"
    else:
        a, b = parse(parts[1]), parse(parts[2])
        out = "err" if a is None or b is None else str((a > b) - (a < b))
    sys.stdout.write(out + "\n")
    sys.stdout.flush()
