#!/bin/sh
# Remove what a service never runs from a built venv, before the final stage copies it:
# - test suites shipped inside wheels (-124 MB in the train venv);
# - build-only files: C/C++/Cython sources, headers, type stubs (-18 MB);
# - pyarrow's Arrow Flight RPC, which no service loads (-29 MB; pyarrow.lib itself links
#   Substrait, Dataset and Acero, so those stay);
# - identical copies of a file (wheels cannot hold symlinks: pyarrow ships libarrow_python
#   three times), replaced by symlinks;
# - bytecode: none is compiled here; see the Dockerfiles for why.
# Shared libraries are NOT stripped: auditwheel-patched ones (NumPy's OpenBLAS) stop loading.
#
# Usage: slim-venv VENV [MODULE...]: the listed modules are imported afterwards, so a removal
# that breaks one fails the build instead of the running service.
set -eu
venv="$1"
shift
site="$(echo "$venv"/lib/python3*/site-packages)"
find "$site" -depth -type d -name tests -exec rm -rf {} +
find "$site" -type f \( -name '*.c' -o -name '*.cpp' -o -name '*.h' -o -name '*.hpp' \
  -o -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.pyi' -o -name '*.pyc' \) -delete
if [ -d "$site/pyarrow" ]; then
  (cd "$site/pyarrow" && rm -rf include src libarrow_flight.so* _flight*.so libarrow_python_flight.so*)
fi
python - "$site" <<'PY'
import hashlib, os, sys
from pathlib import Path
seen = {}
for path in sorted(Path(sys.argv[1]).rglob("*")):
    if path.is_symlink() or not path.is_file() or path.stat().st_size < 1 << 20:
        continue
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest in seen:
        path.unlink()
        path.symlink_to(os.path.relpath(seen[digest], path.parent))
    else:
        seen[digest] = path
PY
for module in "$@"; do "$venv/bin/python" -B -c "import $module" || exit 1; done
du -sm "$venv"
