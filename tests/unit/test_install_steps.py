"""Every tool the project's commands call is installed by an install step, or is on every Debian.

The commands are the README's: ``scripts/test.sh`` (and ``.ci/run``, which calls it),
``scripts/up.sh`` and ``scripts/run_local.sh``. Each is followed through the scripts it calls
(and the Procfile honcho runs); every command those scripts run must be a bash builtin, a
function of the script, a command of a package every Debian has (``ALWAYS_PRESENT``, checked
against the stand-in Debian image by tests/e2e/test_minimal_debian.py), a tool of the project's
venv (for the Procfile), or a row of the TOOLS table in ``scripts/install_prerequisites.sh`` for
a mode that the command's scripts install (``install_prerequisites.sh MODE``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import PROJECT_ROOT
from tests.shell_commands import Call, Script, parse_script, read_procfile

INSTALLER = "scripts/install_prerequisites.sh"
ENTRIES = ("scripts/test.sh", ".ci/run", "scripts/up.sh", "scripts/run_local.sh")
MODES = ("local", "docker", "test")

_BUILTINS = """
    : . [ alias bg bind break builtin caller cd command compgen complete continue declare
    dirs disown echo enable eval exec exit export false fc fg getopts hash help history jobs
    kill let local logout mapfile popd printf pushd pwd read readarray readonly return set
    shift shopt source suspend test times trap true type typeset ulimit umask unalias unset
    wait
"""
BASH_BUILTINS = set(_BUILTINS.split())
# Commands of packages a minimal Debian has: those of Priority "required", which
# `debootstrap --variant=minbase` installs (so the stand-in base image has them), plus apt.
ALWAYS_PRESENT = {
    "coreutils": "base64 basename cat chmod chown chroot cp cut date dirname du env false head "
    "id install ln ls mkdir mktemp mv nohup nproc od printenv readlink realpath rm rmdir "
    "seq sha256sum sleep sort stat tail tee timeout touch tr true uname uniq wc",
    "findutils": "find xargs",
    "grep": "grep",
    "sed": "sed",
    "tar": "tar",
    "gzip": "gzip gunzip zcat",
    "util-linux": "setsid getopt flock",
    "mount": "mount umount",
    "mawk": "awk",
    "dpkg": "dpkg dpkg-query",
    "apt": "apt-get",
    "debianutils": "which",
    "bash": "bash",
}
ALWAYS_PRESENT_COMMANDS = {c for names in ALWAYS_PRESENT.values() for c in names.split()}
# Command words that are not literal, each reviewed: what they run and why that is provided.
KNOWN_DYNAMIC = {
    ("scripts/build_base_images.sh", '"$before"'): "python_before/redis_before, functions",
    ("scripts/build_base_images.sh", '"$after"'): "python_after/redis_after, functions",
    ("scripts/build_base_images.sh", '"build_$t"'): "build_python/build_redis, functions",
    ("scripts/install_docker.sh", '"$tmp/venv/bin/python"'): "a venv python3 -m venv made",
    ("scripts/install_prerequisites.sh", '"$venv/bin/python"'): "a venv python3 -m venv made",
}


@dataclass(frozen=True)
class Tool:
    command: str
    source: str  # apt:PKG[,PKG] or pypi:PKG
    modes: frozenset[str]


def read_tools(installer: Path) -> list[Tool]:
    """The TOOLS table of the install script: ``command source modes...`` per line."""
    match = re.search(r"^TOOLS='\n(.*?)^'", installer.read_text(), re.MULTILINE | re.DOTALL)
    assert match, f"{installer} has no TOOLS='...' table"
    tools = []
    for line in match.group(1).splitlines():
        if line.strip():
            command, source, *modes = line.split()
            tools.append(Tool(command, source, frozenset(modes)))
    return tools


def rows_for(tools: list[Tool], mode: str, *, skip_docker: bool = False) -> list[Tool]:
    """What ``install_prerequisites.sh MODE`` checks (the same rule as its rows_for)."""
    return [
        t
        for t in tools
        if mode in t.modes or ("docker" in t.modes and mode == "test" and not skip_docker)
    ]


def provided_by(tools: list[Tool], modes: set[str]) -> dict[str, Tool]:
    """Commands the given modes install; python3 too when one of them installs from PyPI."""
    rows = [t for mode in modes for t in rows_for(tools, mode)]
    if any(t.source.startswith("pypi:") for t in rows):
        rows += [t for t in tools if "pypi" in t.modes]
    return {t.command: t for t in rows}


def _script_calls(root: Path, relative: str, cache: dict[str, Script]) -> Script:
    if relative not in cache:
        path = root / relative
        text = path.read_text()
        cache[relative] = read_procfile(text) if path.name == "Procfile" else parse_script(text)
    return cache[relative]


def _called_files(root: Path, script: Script) -> list[str]:
    """Scripts a script runs (by path from the project root; every script cds there) and the
    Procfile it hands to honcho."""
    files = [c.name for c in script.calls if c.kind == "command" and "/" in c.name]
    for call in script.calls:
        if call.name == "uv" and "honcho" in call.args:
            files += [a for a in call.args if a and (root / a).is_file() and a.endswith("Procfile")]
    return files


def closure(root: Path, entry: str, cache: dict[str, Script]) -> list[str]:
    seen: list[str] = []
    todo = [entry]
    while todo:
        relative = todo.pop()
        if relative in seen:
            continue
        assert (root / relative).is_file(), f"{entry} runs {relative}, which does not exist"
        seen.append(relative)
        todo += _called_files(root, _script_calls(root, relative, cache))
    return seen


def _install_modes(script: Script) -> set[str]:
    return {
        c.args[0]
        for c in script.calls
        if c.name == INSTALLER
        and c.args
        and c.args[0] is not None
        and not c.args[0].startswith("-")
    }


def unprovided(root: Path, venv_bin: Path | None = None) -> list[str]:
    """Problems found: each a script, line, command and why; empty when all is provided."""
    tools = read_tools(root / INSTALLER)
    cache: dict[str, Script] = {}
    problems: list[str] = []
    reached: set[str] = set()
    for entry in ENTRIES:
        if not (root / entry).is_file():
            continue
        files = closure(root, entry, cache)
        reached |= set(files)
        modes = set().union(*(_install_modes(_script_calls(root, f, cache)) for f in files))
        unknown = modes - set(MODES)
        assert not unknown, f"{entry}: {INSTALLER} has no mode {unknown}"
        provided = provided_by(tools, modes)
        for relative in files:
            script = _script_calls(root, relative, cache)
            for call in script.calls:
                why = _why_unprovided(call, relative, script, provided, venv_bin)
                if why:
                    problems.append(f"{relative}:{call.line}: {call.name} ({entry}): {why}")
    for path in sorted((root / "scripts").glob("*.sh")):
        relative = str(path.relative_to(root))
        if relative not in reached:
            problems.append(f"{relative}: run by none of {', '.join(ENTRIES)}, so never checked")
    return sorted(set(problems))


def _why_unprovided(
    call: Call, relative: str, script: Script, provided: dict[str, Tool], venv_bin: Path | None
) -> str | None:
    name = call.name
    if call.kind == "dynamic":
        if (relative, name) in KNOWN_DYNAMIC:
            return None
        return "a command word that is not literal: add it to KNOWN_DYNAMIC once reviewed"
    if "/" in name or name in script.functions or name in BASH_BUILTINS:
        return None
    if name in ALWAYS_PRESENT_COMMANDS or name in provided:
        return None
    if relative.endswith("Procfile") and venv_bin is not None and (venv_bin / name).exists():
        return None  # honcho runs under `uv run`: the project's venv provides it
    return (
        f"no install step provides it: add a row to the TOOLS table of {INSTALLER} "
        "for a mode this command installs (or to ALWAYS_PRESENT if every Debian has it)"
    )


# --- the project's scripts ------------------------------------------------------------------


def test_every_tool_the_commands_call_is_installed_or_always_present() -> None:
    problems = unprovided(PROJECT_ROOT, venv_bin=Path(sys.executable).parent)
    assert not problems, "\n".join(problems)


def test_each_command_runs_its_install_step() -> None:
    cache: dict[str, Script] = {}
    expected = {
        "scripts/test.sh": {"test", "docker", "local"},  # local: for --fast
        ".ci/run": {"test", "docker", "local"},
        "scripts/up.sh": {"docker"},
        "scripts/run_local.sh": {"local"},
    }
    for entry, modes in expected.items():
        files = closure(PROJECT_ROOT, entry, cache)
        found = set().union(*(_install_modes(_script_calls(PROJECT_ROOT, f, cache)) for f in files))
        assert found == modes, entry


def test_the_test_command_installs_debootstrap_and_what_the_readme_says() -> None:
    tools = read_tools(PROJECT_ROOT / INSTALLER)
    test_rows = {t.command for t in rows_for(tools, "test")}
    assert {"uv", "redis-server", "chromium", "debootstrap", "docker"} <= test_rows
    readme = (PROJECT_ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    for tool in tools:
        for package in tool.source.split(":", 1)[1].split(","):
            assert f"`{package}`" in quick_start, f"README's Quick start does not name {package}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("skip_docker", [False, True])
def test_install_script_reads_its_table_as_this_test_does(mode: str, skip_docker: bool) -> None:
    env = {**os.environ, "SKIP_DOCKER": "1" if skip_docker else "0"}
    listed = subprocess.run(
        ["bash", INSTALLER, "--list", mode],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    tools = read_tools(PROJECT_ROOT / INSTALLER)
    expected = [f"{t.command} {t.source}" for t in rows_for(tools, mode, skip_docker=skip_docker)]
    assert [line for line in listed if line] == expected


def test_install_script_names_what_is_missing_without_installing(tmp_path: Path) -> None:
    """--check on a PATH holding only bash and a few basics: every row is reported missing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("bash", "grep", "id", "env"):
        found = shutil.which(name)
        assert found
        (bin_dir / name).symlink_to(found)
    result = subprocess.run(
        ["bash", str(PROJECT_ROOT / INSTALLER), "--check", "test"],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path), "SKIP_DOCKER": "1"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    reported = re.findall(r"missing: (\S+) \(from (\S+)\)", result.stdout)
    assert reported == [
        ("uv", "pypi:uv"),
        ("redis-server", "apt:redis-server"),
        ("chromium", "apt:chromium"),
        ("python3", "apt:python3,python3-venv"),  # uv comes from PyPI through a venv
    ]


# --- the check itself fails when it should ---------------------------------------------------


def _project(tmp_path: Path, scripts: dict[str, str]) -> Path:
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / INSTALLER, root / INSTALLER)
    for relative, text in scripts.items():
        (root / relative).write_text(text)
    return root


def test_a_script_calling_an_unknown_tool_is_flagged(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "scripts/run_local.sh": "#!/usr/bin/env bash\nscripts/install_prerequisites.sh local\n"
            "uv sync\nfrobnicate --all | sort\n",
            "scripts/test.sh": "#!/usr/bin/env bash\nscripts/install_prerequisites.sh test\n"
            'log() { printf "%s\\n" "$*"; }\nlog "$(redis-server --version)"\n',
        },
    )
    problems = unprovided(root)
    assert len(problems) == 1, problems
    assert problems[0].startswith("scripts/run_local.sh:4: frobnicate (scripts/run_local.sh)")


def test_a_tool_installed_only_for_another_command_is_flagged(tmp_path: Path) -> None:
    """chromium is in the table, but only for the test command: run_local.sh may not use it."""
    root = _project(
        tmp_path,
        {
            "scripts/run_local.sh": "#!/usr/bin/env bash\nscripts/install_prerequisites.sh local\n"
            'if x="$(chromium --version)"; then exec uv run honcho start; fi\n',
        },
    )
    problems = unprovided(root)
    assert [p.split(" (")[0] for p in problems] == ["scripts/run_local.sh:3: chromium"]


def test_tools_hidden_in_substitutions_wrappers_and_probes_are_flagged(tmp_path: Path) -> None:
    script = """#!/usr/bin/env bash
scripts/install_prerequisites.sh local
v="${V:-$(tool-in-default | tr -d x)}"
echo "$(tool-in-quotes)" `tool-in-backticks`
timeout 5 tool-after-timeout --flag
setsid nohup tool-after-nohup >/dev/null 2>&1 &
command -v tool-probed >/dev/null || exit 1
if ! tool-after-bang; then :; fi
cat <<EOF
$(tool-in-heredoc)
EOF
"""
    problems = unprovided(_project(tmp_path, {"scripts/run_local.sh": script}))
    flagged = {p.split(": ")[1].split(" (")[0] for p in problems}
    assert flagged == {
        "tool-in-default", "tool-in-quotes", "tool-in-backticks", "tool-after-timeout",
        "tool-after-nohup", "tool-probed", "tool-after-bang", "tool-in-heredoc",
    }  # fmt: skip


def test_a_script_no_command_runs_and_a_dynamic_command_are_flagged(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "scripts/run_local.sh": "#!/usr/bin/env bash\nscripts/install_prerequisites.sh local\n"
            'tool=uv\n"$tool" sync\n',
            "scripts/orphan.sh": "#!/usr/bin/env bash\ntrue\n",
        },
    )
    problems = unprovided(root)
    assert any(p.startswith('scripts/run_local.sh:4: "$tool"') for p in problems), problems
    assert any(p.startswith("scripts/orphan.sh: run by none") for p in problems), problems


def test_a_tool_added_at_the_end_of_any_real_script_is_flagged(tmp_path: Path) -> None:
    """Each of the project's scripts is read to its end: an unlisted tool is found in any."""
    root = tmp_path / "project"
    files = [*(PROJECT_ROOT / "scripts").glob("*.sh"), PROJECT_ROOT / ".ci/run"]
    for path in [*files, PROJECT_ROOT / "Procfile"]:
        copy = root / path.relative_to(PROJECT_ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        extra = "jq: jq --version\n" if path.name == "Procfile" else "\njq --version\n"
        copy.write_text(path.read_text() + extra)
    problems = unprovided(root, venv_bin=Path(sys.executable).parent)
    flagged = {p.split(":")[0] for p in problems if ": jq (" in p}
    assert flagged == {str(p.relative_to(PROJECT_ROOT)) for p in files} | {"Procfile"}, problems
    assert all(": jq (" in p for p in problems), problems


# --- the parser on what the scripts use -------------------------------------------------------


def _names(text: str) -> list[str]:
    return [c.name for c in parse_script(text).calls if c.kind != "dynamic"]


def test_parser_skips_what_runs_nothing_on_the_host() -> None:
    text = """
# a comment: curl would be here
log() { printf '%s\\n' "$*"; }
files=(-f a.yaml "$(date)")
case "$1" in
    --only | -o) shift ;;
    *) die "unknown: $1 (see --help)" ;;
esac
for x in wget curl; do echo "$x"; done
for ((i = ${#a[@]} - 1; i >= 0; i--)); do :; done
[[ -z "$x" || "$x" == python ]] && echo yes
((n > 1)) || echo one
n=$((n + 1))
cat >"$f" <<'EOF'
#!/bin/sh
exec setpriv --reuid=redis "$@"
EOF
in_chroot "$rootfs" apt-get install python3
chroot "$rootfs" /usr/bin/env -i groupadd redis
awk '$1 == "deb" { print $2 }' /etc/apt/sources.list | sort -r
IFS='=' read -r a b <<<"$pair"
echo done 2>&1 >/dev/null </dev/null
cat <<EOF
$((n + 1)) $(uname)
EOF
"""
    assert sorted(_names(text)) == sorted([
        "printf", "date", "shift", "die", "echo", ":", "echo", "echo", "cat", "in_chroot",
        "chroot", "awk", "sort", "read", "echo", "cat", "uname",
    ])  # fmt: skip
    assert parse_script(text).functions == {"log"}


@pytest.mark.parametrize(
    "text", ['host="${address%%]*}"\n', "cat <<EOF\n`date`\nEOF\n", 'echo "unterminated\n']
)
def test_parser_refuses_what_it_cannot_read(text: str) -> None:
    """Rather than miss a command: tree-sitter-bash trips on the first two (the last is no
    bash)."""
    with pytest.raises(ValueError, match="line"):
        parse_script(text)


def test_parser_reads_lines_and_arguments() -> None:
    calls = parse_script('set -e\n\nscripts/install_prerequisites.sh \\\n    test "x"\n').calls
    assert calls[-1] == Call("scripts/install_prerequisites.sh", 3, ("test", "x"))
