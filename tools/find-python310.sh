#!/usr/bin/env bash
# Print the path of a working Python 3.10 interpreter, or exit 1.
# lava-nc 0.10 requires Python < 3.11, so neuroport's venv is built with 3.10.
# Search order: $PYTHON310, pyenv's installed versions, python3.10 on PATH.
set -u
works() { [ -n "$1" ] && [ -x "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
candidates=()
[ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
root="${PYENV_ROOT:-}"
[ -z "$root" ] && command -v pyenv >/dev/null 2>&1 && root="$(pyenv root 2>/dev/null)"
[ -z "$root" ] && root="$HOME/.pyenv"
for p in $(ls -d "$root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r); do candidates+=("$p"); done
p="$(command -v python3.10 2>/dev/null)" && candidates+=("$p")
for c in "${candidates[@]}"; do
  if works "$c"; then echo "$c"; exit 0; fi
done
exit 1
