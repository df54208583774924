#!/usr/bin/env bash
# The docs stand on their own: every Markdown link in README.md and docs/
# points at a file of this repository that exists (relative links resolved
# from the linking file, `/x` from the repository's root), and an anchor into
# a Markdown file names one of its headings (GitHub's slugs).  Links to
# http(s) and mailto are not followed.  Nothing in them names a file outside
# the repository either, link or not: the specs the project was built from
# (../shared/spec/*) are not shipped, so what users need from them is
# restated in docs/.
#
#   test_docs_links.sh [VODUP] [ROOT]   (VODUP is ignored: ctest passes it)
set -uo pipefail
ROOT=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v python3 >/dev/null || { echo "python3 is required (scripts/install-deps.sh --test)"; exit 77; }

python3 - "$ROOT" <<'EOF'
import os, re, sys, unicodedata

root = os.path.realpath(sys.argv[1])
files = [os.path.join(root, "README.md")] + sorted(
    os.path.join(root, "docs", f) for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
passed = failed = 0

def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name}{': ' + detail if detail else ''}")

def prose_lines(text):
    """The lines outside fenced code blocks, with inline code spans blanked."""
    fence = None
    for n, line in enumerate(text.split("\n"), 1):
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)[0] * len(m.group(1))
            elif m.group(1).startswith(fence):
                fence = None
            continue
        if fence is None:
            yield n, re.sub(r"(`+)(.+?)\1", lambda c: " " * len(c.group(0)), line)

def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    h = re.sub(r"`([^`]*)`", r"\1", heading.strip().lower())
    h = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", h)
    out = []
    for ch in h:
        cat = unicodedata.category(ch)
        if ch in "-_" or cat[0] in "LN" or cat == "Mn":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)

anchors_of = {}
def anchors(path):
    if path not in anchors_of:
        seen, found = {}, set()
        with open(path, encoding="utf-8") as f:
            text = f.read()
        fence = None
        for line in text.split("\n"):
            m = re.match(r"^\s*(`{3,}|~{3,})", line)
            if m:
                fence = None if fence else m.group(1)
                continue
            h = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if fence is None and h:
                s = slug(h.group(1))
                k = seen.get(s, 0)
                seen[s] = k + 1
                found.add(s if k == 0 else f"{s}-{k}")
        for m in re.finditer(r'<a\s+(?:name|id)="([^"]+)"', text):
            found.add(m.group(1))
        anchors_of[path] = found
    return anchors_of[path]

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
total = 0
problems = []
outside = []
for path in files:
    rel = os.path.relpath(path, root)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for n, line in enumerate(text.split("\n"), 1):
        if re.search(r"\.\./shared|shared/spec/", line):
            outside.append(f"{rel}:{n}: {line.strip()[:100]}")
    for n, line in prose_lines(text):
        targets = [m.group(1) for m in LINK.finditer(line)]
        m = REFDEF.match(line)
        if m:
            targets.append(m.group(1))
        for t in targets:
            if re.match(r"^(https?:|mailto:)", t, re.I):
                continue
            total += 1
            where = f"{rel}:{n}: ({t})"
            if re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I):
                problems.append(f"{where} uses a scheme other than http(s)")
                continue
            target, _, anchor = t.partition("#")
            if target == "":
                dest = path
            elif target.startswith("/"):
                dest = os.path.realpath(os.path.join(root, target.lstrip("/")))
            else:
                dest = os.path.realpath(os.path.join(os.path.dirname(path), target))
            if dest != root and not dest.startswith(root + os.sep):
                problems.append(f"{where} points outside the repository")
            elif not os.path.exists(dest):
                problems.append(f"{where} names a file that does not exist")
            elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                problems.append(f"{where} names no heading of {os.path.relpath(dest, root)}")

check(f"{len(files)} Markdown files read", len(files) >= 10, str(len(files)))
check(f"all {total} relative links resolve to files of the repository, anchors to headings",
      total > 50 and not problems, "\n    " + "\n    ".join(problems) if problems else f"only {total} links")
check("no text names a file outside the repository (../shared, shared/spec/)", not outside,
      "\n    " + "\n    ".join(outside))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
