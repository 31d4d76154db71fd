#!/bin/sh
# Remove what a service never runs from a built venv, before the final stage copies it:
# - test suites shipped inside wheels (-124 MB in the train venv);
# - build-only files: C/C++/Cython sources, headers, type stubs (-18 MB);
# - pyarrow's Arrow Flight RPC, which no service loads (-29 MB; pyarrow.lib itself links
#   Substrait, Dataset and Acero, so those stay);
# - identical copies of a file (wheels cannot hold symlinks: pyarrow ships libarrow_python
#   three times), replaced by symlinks;
# - the static symbol tables (.symtab, not .dynsym) of pyarrow's own shared libraries, which
#   its wheel ships unstripped (-23 MB; needs `strip`, from binutils, in the builder);
# - bytecode: none is compiled here; see the Dockerfiles for why.
# Other shared libraries are NOT stripped: auditwheel-patched ones (NumPy's OpenBLAS, under
# *.libs/) stop loading. pyarrow's are its own build's (RUNPATH $ORIGIN, no pyarrow.libs/).
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
  find "$site/pyarrow" -maxdepth 1 -type f -name '*.so*' -exec strip --strip-unneeded {} +
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
if [ -d "$site/pyarrow" ]; then  # the stripped libraries still write and read Parquet
  # A path, not a BytesIO: read_table on a Python file object can abort at interpreter exit
  # (apache/arrow#33975, #34314), with or without stripping.
  "$venv/bin/python" -B -c "import os, tempfile, pyarrow as pa, pyarrow.parquet as pq
p = os.path.join(tempfile.mkdtemp(), 't.parquet'); pq.write_table(pa.table({'a': [1, 2]}), p)
assert pq.read_table(p).column('a').to_pylist() == [1, 2]"
fi
du -sm "$venv"
