#!/bin/sh
# Bytecode for the standard library modules a command imports, staged for an image to copy.
#
# Usage: stdlib-bytecode DEST PYTHON [ARG...]
#   Deletes the stdlib's __pycache__ directories (whatever earlier build steps wrote), runs
#   PYTHON ARG... with bytecode writing on, so Python writes a .pyc for exactly each stdlib
#   module it imports, and copies those under DEST with their absolute paths (the stdlib is
#   /usr/local/lib/python3.11 in the official image, /usr/lib/python3.11 in the stand-in):
#   `COPY --from=<stage> DEST/ /` puts them in place. Fails when the command fails.
#
# The base image ships no .pyc, and the images' root filesystem is read-only: without these,
# every process compiles each stdlib module it imports, at every start. Only what is imported:
# the whole stdlib's bytecode would add 11 MB to every image for modules no service loads.
set -eu
dest="$1"
shift
stdlib="$("$1" -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')"
find "$stdlib" -depth -type d -name __pycache__ -exec rm -rf {} +
PYTHONDONTWRITEBYTECODE='' "$@"
mkdir -p "$dest"
find "$stdlib" -name '*.pyc' | tar -cf - -T - 2>/dev/null | tar -C "$dest" -xf -
echo "stdlib-bytecode: $(find "$dest" -name '*.pyc' | wc -l) stdlib modules under $dest"
