#!/bin/sh
# Remove what a service never runs from a built venv, before the final stage copies it:
# - what one service lists in SLIM_VENV_DROP (see Usage below);
# - test suites shipped inside wheels (-124 MB in the train venv);
# - build-only files: C/C++/Cython sources, headers, type stubs (-18 MB);
# - pyarrow's Arrow Flight RPC, which no service loads (-29 MB; pyarrow.lib itself links
#   Substrait, Dataset and Acero, so those stay);
# - identical copies of a file (wheels cannot hold symlinks: pyarrow ships libarrow_python
#   three times), replaced by symlinks;
# - the static symbol tables (.symtab, not .dynsym) of pyarrow's own shared libraries, which
#   its wheel ships unstripped (-23 MB; needs `strip`, from binutils, in the builder);
# - Jupyter front-end bundles no service serves (pydeck/nbextension: -23 MB in the ui venv;
#   Streamlit draws pydeck charts with its own deck.gl);
# - any bytecode that came with the install.
# Other shared libraries are NOT stripped: auditwheel-patched ones (NumPy's OpenBLAS, under
# *.libs/) stop loading. pyarrow's are its own build's (RUNPATH $ORIGIN, no pyarrow.libs/).
#
# Then bytecode for what the service imports: one interpreter imports MODULE... with bytecode
# writing on, so Python writes a .pyc for exactly each module it loads, in the venv and in the
# standard library (the base image ships none for either). The images' root filesystem is
# read-only: a module without .pyc is compiled again by every process that imports it, at every
# start. Compiling everything instead would add 36-112 MB per image for modules never loaded.
# The stdlib's are staged under /stdlib-pyc for the image to copy (stdlib-bytecode.sh). A
# module that does not import fails the build, so a removal above that breaks one fails here
# instead of in the running service.
#
# Usage: slim-venv VENV [MODULE...]: the modules the service imports as it starts (and the
# heavy ones its tasks import), not just the packages: `sklearn` alone loads little of sklearn.
# SLIM_VENV_DROP (environment, optional): what one service's venv holds but the service never
# loads, removed first: whitespace-separated paths under site-packages (globs allowed, e.g.
# `cryptography-*.dist-info`), or bin/NAME for a script of the venv. A path that matches
# nothing fails the build (a dependency renamed or gone: update the list), and so does a
# removal that breaks an import of MODULE... (the check below).
set -eu
venv="$1"
shift
site="$(echo "$venv"/lib/python3*/site-packages)"
if [ -n "${SLIM_VENV_DROP:-}" ]; then
  before="$(du -sk "$venv" | cut -f1)"
  set -f  # split the list on whitespace without expanding its globs here
  for pattern in $SLIM_VENV_DROP; do
    case "$pattern" in
      /* | *..*) echo "slim-venv: SLIM_VENV_DROP: $pattern: not a path inside the venv" >&2; exit 1 ;;
      bin/*) base="$venv" ;;
      *) base="$site" ;;
    esac
    set +f
    found=""
    for path in "$base"/$pattern; do
      if [ -e "$path" ] || [ -L "$path" ]; then
        rm -rf "$path"
        found=yes
      fi
    done
    set -f
    if [ -z "$found" ]; then
      echo "slim-venv: SLIM_VENV_DROP: $pattern: nothing matches in $base" >&2
      exit 1
    fi
  done
  set +f
  echo "slim-venv: dropped $(( (before - $(du -sk "$venv" | cut -f1)) / 1024 )) MB (SLIM_VENV_DROP)"
fi
find "$site" -depth -type d -name tests -exec rm -rf {} +
find "$site" -type f \( -name '*.c' -o -name '*.cpp' -o -name '*.h' -o -name '*.hpp' \
  -o -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.pyi' -o -name '*.pyc' \) -delete
rm -rf "$site/pydeck/nbextension"
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
stdlib-bytecode /stdlib-pyc "$venv/bin/python" -c '
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
' "$@"
if [ -d "$site/pyarrow" ]; then  # the stripped libraries still write and read Parquet
  # A path, not a BytesIO: read_table on a Python file object can abort at interpreter exit
  # (apache/arrow#33975, #34314), with or without stripping.
  "$venv/bin/python" -B -c "import os, tempfile, pyarrow as pa, pyarrow.parquet as pq
p = os.path.join(tempfile.mkdtemp(), 't.parquet'); pq.write_table(pa.table({'a': [1, 2]}), p)
assert pq.read_table(p).column('a').to_pylist() == [1, 2]"
fi
du -sm "$venv"
echo "slim-venv: bytecode for $(find "$site" -name '*.pyc' | wc -l) modules in the venv"
