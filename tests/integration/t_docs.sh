#!/bin/bash
# t_docs.sh — docs/cli.md matches the commands' --help texts.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
FOLIO=$FOLIO "$top/tools/gen-cli-doc.sh" > "$T/cli.md"
check "docs/cli.md is up to date (run tools/gen-cli-doc.sh > docs/cli.md)" diff -u "$top/docs/cli.md" "$T/cli.md"
finish
