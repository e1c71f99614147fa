#!/usr/bin/env python3
"""Checks the shape every crate promises (docs/architecture.md, "One service shape"):

1. every service's src/ holds only the template's folders (api app domain store events workers) beside lib.rs,
   and has the four every service needs (api app domain store);
2. domain/ is pure: no sqlx, tonic, tokio, lapin, axum or wf_server (nor wf_db's re-exported sqlx);
3. no `#[path]` attribute in any tracked Rust file (generated code lives in OUT_DIR, not in the tree);
4. no import cycle between sibling modules of any crate: for modules A and B under one parent, A using
   something of B and B using something of A (directly or through other siblings) is a cycle; the shared
   piece belongs in a third module. A module using its own ancestors or descendants is not a cycle.
   Test modules (`#[cfg(test)] mod …`) are left out: tests may reach anywhere;
5. wf-testkit is the only place that creates a test database: no `CREATE DATABASE` in any other Rust file.

Usage: scripts/check-layout.py [CRATE_DIR ...]   (default: every crate under crates/ and services/)
       scripts/check-layout.py --self-test        (shows on made-up crates that each rule catches its breach)
Exits 1 and names each problem (file:line) when one is found.
"""

import os
import re
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = ["intake", "routing", "cases", "audit", "evaluation", "gateway"]
TEMPLATE = ["api", "app", "domain", "store", "events", "workers"]
REQUIRED = ["api", "app", "domain", "store"]
IMPURE = ["sqlx", "tonic", "tokio", "lapin", "axum", "wf_server"]


def strip_comments(text):
    """Blanks comments and string contents, keeping line numbers."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = '"' + hashes
            j = text.find(end, i + len(hashes) + 2)
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]):
            m = re.match(r"'(\\.|[^\\'])'", text[i:])
            out.append("' '")
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching_brace(text, open_at):
    depth = 0
    for k in range(open_at, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    return len(text) - 1


TEST_MOD = re.compile(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*([;{])")


def without_tests(text):
    """Removes inline `#[cfg(test)] mod x { … }` blocks; returns (text, names of `#[cfg(test)] mod x;`)."""
    test_children = set()
    while True:
        m = TEST_MOD.search(text)
        if not m:
            return text, test_children
        if m.group(2) == ";":
            test_children.add(m.group(1))
            text = text[:m.start()] + " " * (m.end() - m.start()) + text[m.end():]
            continue
        end = matching_brace(text, m.end() - 1)
        blank = re.sub(r"[^\n]", " ", text[m.start():end + 1])
        text = text[:m.start()] + blank + text[end + 1:]


def module_files(src):
    """Module path (tuple) -> file, for one crate's src/ (lib.rs or main.rs is the root)."""
    modules = {}
    for dirpath, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel in (["lib"], ["main"]):
                key = ()
            elif rel[-1] == "mod":
                key = tuple(rel[:-1])
            else:
                key = tuple(rel)
            if key == () and () in modules and rel == ["main"]:
                continue  # a binary's main.rs beside lib.rs uses the library as an outside crate
            if key in modules and key != ():
                continue
            modules[key] = path
    return modules


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e'] (aliases and globs reduced to their path)."""
    tree = re.sub(r"\s+", "", tree)
    brace = tree.find("{")
    if brace < 0:
        return [re.sub(r"as\w+$", "", tree).rstrip(":*")]
    prefix, inner = tree[:brace], tree[brace + 1:tree.rfind("}")]
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:k])
            start = k + 1
    parts.append(inner[start:])
    out = []
    for part in parts:
        if not part:
            continue
        for sub in expand_use(part):
            out.append((prefix + sub) if sub != "self" else prefix.rstrip(":"))
    return out


PATH_REF = re.compile(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)")
USE_STMT = re.compile(r"\buse\s+([^;]+);")


def references(text):
    """(line, path) for every crate/super/self path a module mentions."""
    refs = []
    for m in USE_STMT.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        for path in expand_use(m.group(1)):
            if re.match(r"(crate|super|self)(::|$)", path):
                refs.append((line, path))
    rest = USE_STMT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    for m in PATH_REF.finditer(rest):
        refs.append((rest.count("\n", 0, m.start()) + 1, m.group(1)))
    return refs


def resolve(current, path, modules):
    segments = path.split("::")
    if segments[0] == "crate":
        base, segments = (), segments[1:]
    else:
        base = current
        while segments and segments[0] in ("super", "self"):
            if segments[0] == "super":
                base = base[:-1]
            segments = segments[1:]
    target = base
    for segment in segments:
        if target + (segment,) in modules:
            target = target + (segment,)
        else:
            break
    return target


def sccs(nodes, edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in nodes:
        if v not in index:
            visit(v)
    return out


def check_crate(crate_dir, problems):
    src = os.path.join(crate_dir, "src")
    if not os.path.isdir(src):
        return
    rel_crate = os.path.relpath(crate_dir, ROOT)
    modules = module_files(src)
    texts, excluded = {}, set()
    for key, path in modules.items():
        with open(path, encoding="utf-8") as f:
            raw = f.read()
        for n, line in enumerate(raw.splitlines(), 1):
            if re.match(r"\s*#\[path\s*=", line):
                problems.append(f"{os.path.relpath(path, ROOT)}:{n}: #[path] attribute (make the module a folder)")
        text, test_children = without_tests(strip_comments(raw))
        texts[key] = text
        for child in test_children:
            excluded.add(key + (child,))
    for key in list(modules):
        if any(key[:k] in excluded for k in range(1, len(key) + 1)) or (key and key[-1] == "tests"):
            del modules[key]

    # Domain purity.
    for key, path in sorted(modules.items()):
        if rel_crate.startswith("services" + os.sep) and key[:1] == ("domain",):
            for n, line in enumerate(texts[key].splitlines(), 1):
                for crate in IMPURE:
                    if re.search(rf"(?<![\w:]){crate}::|\buse\s+{crate}\b|\bwf_db::sqlx\b|\b{crate}!", line):
                        problems.append(
                            f"{os.path.relpath(path, ROOT)}:{n}: domain/ uses {crate} "
                            f"(domain is pure: move I/O to store/, app/ or api/)"
                        )
                        break

    # Sibling import cycles.
    graphs = defaultdict(lambda: defaultdict(set))
    examples = {}
    for key in modules:
        for line, path in references(texts[key]):
            target = resolve(key, path, modules)
            common = 0
            while common < min(len(key), len(target)) and key[common] == target[common]:
                common += 1
            if common == len(key) or common == len(target):
                continue  # an ancestor or a descendant
            parent, a, b = key[:common], key[common], target[common]
            graphs[parent][a].add(b)
            examples.setdefault((parent, a, b), f"{os.path.relpath(modules[key], ROOT)}:{line} uses {path}")
    for parent, edges in sorted(graphs.items()):
        nodes = sorted(set(edges) | {b for bs in edges.values() for b in bs})
        for comp in sccs(nodes, edges):
            if len(comp) < 2:
                continue
            members = set(comp)
            where = "::".join(("crate",) + parent)
            lines = [examples[(parent, a, b)] for a in sorted(comp) for b in sorted(edges.get(a, ())) if b in members]
            problems.append(
                f"{rel_crate}: import cycle between modules {sorted(comp)} of {where}:\n    " + "\n    ".join(lines)
            )


def check_service_folders(problems):
    for service in SERVICES:
        src = os.path.join(ROOT, "services", service, "src")
        if not os.path.isdir(src):
            continue
        for entry in sorted(os.listdir(src)):
            path = os.path.join(src, entry)
            if os.path.isdir(path):
                if entry not in TEMPLATE:
                    problems.append(
                        f"services/{service}/src/{entry}/: not a template folder; allowed: {' '.join(TEMPLATE)} "
                        f"(a concept with parts goes inside one of them, e.g. domain/{entry}/)"
                    )
            elif entry not in ("lib.rs",):
                problems.append(
                    f"services/{service}/src/{entry}: only lib.rs stands beside the template folders "
                    f"({' '.join(TEMPLATE)}); move it into one of them"
                )
        for folder in REQUIRED:
            if not os.path.isdir(os.path.join(src, folder)):
                problems.append(f"services/{service}/src/{folder}/ is missing (every service has {' '.join(REQUIRED)})")


def check_test_databases(problems):
    for group in ("crates", "services", "tests"):
        for dirpath, dirs, files in os.walk(os.path.join(ROOT, group)):
            dirs[:] = [d for d in dirs if d != "target"]
            for name in files:
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, ROOT)
                if not name.endswith(".rs") or rel.startswith(os.path.join("crates", "wf-testkit") + os.sep):
                    continue
                with open(path, encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        if "CREATE DATABASE" in line.upper():
                            problems.append(f"{rel}:{n}: CREATE DATABASE outside wf-testkit (use wf_testkit::TestDatabase)")


def self_test():
    """Each rule, shown to fire on a made-up crate that breaks it and to stay quiet on one that does not."""
    import tempfile

    def crate(files):
        root = tempfile.mkdtemp(prefix="check-layout-")
        for rel, text in files.items():
            path = os.path.join(root, "src", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return root

    def problems_of(files, as_service=True):
        root = crate(files)
        found = []
        # Domain purity applies to services only: pretend the crate lives under services/.
        global ROOT
        saved, ROOT = ROOT, os.path.dirname(root) if not as_service else os.path.dirname(os.path.dirname(root))
        try:
            if as_service:
                services = os.path.join(ROOT, "services")
                os.makedirs(services, exist_ok=True)
                moved = os.path.join(services, os.path.basename(root))
                os.rename(root, moved)
                root = moved
            check_crate(root, found)
        finally:
            ROOT = saved
        return found

    clean = {
        "lib.rs": "mod a;\nmod b;\nmod domain;\npub const SERVICE: &str = \"x\";\n",
        "a.rs": "use crate::b::thing;\nuse crate::SERVICE;\n",
        "b.rs": "pub fn thing() {}\n// use crate::a::x; (a comment is not a use)\nconst S: &str = \"crate::a::x\";\n",
        "domain/mod.rs": "use wf_types::FieldViolation;\n#[cfg(test)]\nmod tests {\n    use tokio::time;\n    use crate::a::x;\n}\n",
    }
    cases = [
        ("a clean crate", clean, None),
        ("a sibling cycle", {**clean, "b.rs": "use crate::a::other;\n"}, "import cycle between modules ['a', 'b']"),
        (
            "a cycle through a use tree",
            {**clean, "b.rs": "use crate::{domain, a::{self, other}};\n"},
            "import cycle between modules ['a', 'b']",
        ),
        ("a #[path] attribute", {**clean, "a.rs": '#[path = "x.rs"]\nmod x;\n'}, "#[path] attribute"),
        ("tokio in domain/", {**clean, "domain/mod.rs": "use tokio::sync::Mutex;\n"}, "domain/ uses tokio"),
        ("wf_server in domain/", {**clean, "domain/rule.rs": "fn f() -> wf_server::ApiError { todo!() }\n",
                                   "domain/mod.rs": "mod rule;\n"}, "domain/ uses wf_server"),
        ("sqlx through wf_db in domain/", {**clean, "domain/mod.rs": "use wf_db::sqlx::Row;\n"}, "domain/ uses"),
    ]
    failures = 0
    for name, files, expected in cases:
        found = problems_of(files)
        ok = (not found) if expected is None else any(expected in p for p in found)
        print(f"self-test {'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": found {found}"))
        failures += not ok
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    crates = sys.argv[1:]
    whole_tree = not crates
    if whole_tree:
        crates = [
            os.path.join(ROOT, group, name)
            for group in ("crates", "services")
            for name in sorted(os.listdir(os.path.join(ROOT, group)))
        ]
    problems = []
    if whole_tree:
        check_service_folders(problems)
        check_test_databases(problems)
    for crate in crates:
        check_crate(os.path.abspath(crate), problems)
    if not whole_tree:
        # The folder rule for just the named services.
        named = {os.path.basename(os.path.abspath(c)) for c in crates}
        folder_problems = []
        check_service_folders(folder_problems)
        problems = [p for p in folder_problems if p.split("/")[1] in named] + problems
    for problem in problems:
        print(problem)
    if problems:
        print(f"check-layout: {len(problems)} problem(s)")
        return 1
    print(f"check-layout: {len(crates)} crates checked: template folders, pure domain/, no #[path], no import cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
