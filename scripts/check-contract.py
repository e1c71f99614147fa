#!/usr/bin/env python3
"""The API contract check: every field a request declares is read by its handler, and every field a response
(or any message inside one) declares is set by the service that answers it.

For each RPC of each gRPC service under proto/wayfinder/*/v1/ it lists
- each field of the request message that no function of the answering service receiving that message reads
  (a function "receives" the message when one of its parameters names the message type; the parameter, and
  any `let x = param.into_inner()` / `.get_ref()` binding of it, are the receivers; a field is read when
  `receiver.field` appears in the function, or the message is destructured naming the field);
- each field of the response message, and of every message reachable from it, that the service never sets:
  never named in a struct literal of that message (`pb::Msg { field: …, … }`), never assigned
  (`.field = …`), and the message is never decoded whole (`Msg::decode(`) or built by struct update from
  another value of its type (`..other`).

Every finding must be listed in scripts/contract-allowlist.txt with a comment saying why (a field set by the
server by design, a filter documented as ignored, …); an unlisted finding fails the check, and so does an
allowlist line that no longer matches a finding (the list stays short and true).

Usage: scripts/check-contract.py            check; exit 1 on an unlisted finding or a stale allowlist line
       scripts/check-contract.py --report   print every finding, allowlisted or not, and exit 0
       scripts/check-contract.py --self-test show on made-up sources that each rule catches its breach
"""

import os
import re
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO = os.path.join(ROOT, "proto")
ALLOWLIST = os.path.join(ROOT, "scripts", "contract-allowlist.txt")
# Where each proto package's services are answered.
SOURCES = {
    "wayfinder.intake.v1": ["services/intake/src"],
    "wayfinder.routing.v1": ["services/routing/src"],
    "wayfinder.cases.v1": ["services/cases/src"],
    "wayfinder.audit.v1": ["services/audit/src"],
    "wayfinder.evaluation.v1": ["services/evaluation/src"],
    "wayfinder.admin.v1": ["crates/wf-server/src"],
}
RUST_KEYWORDS = {"type", "match", "ref", "move", "fn", "mod", "use", "loop", "final", "override", "box", "in"}
SCALARS = {"double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64",
           "sfixed32", "sfixed64", "bool", "string", "bytes"}


LEXEMES = re.compile(r'//[^\n]*|/\*.*?\*/|r(#*)".*?"\1|b?"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\\n])\'', re.S)


def strip_comments(text):
    """Blanks comments, and string and char literals to `""` (an SQL `r.is_minor = 1` sets no field);
    keeps line structure."""
    def blank(m):
        lexeme = m.group(0)
        if lexeme.startswith(("//", "/*")):
            return re.sub(r"[^\n]", " ", lexeme)
        return '""' + "\n" * lexeme.count("\n")
    return LEXEMES.sub(blank, text)


def strip_proto_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


# ---------------------------------------------------------------------------------------------------------
# proto

class Message:
    def __init__(self, package, name):
        self.package, self.name = package, name
        self.fields = []  # (name, type) — a oneof counts as one field named after it, of type "oneof"
        self.oneof_types = []  # the types inside its oneofs (reachable messages)

    @property
    def full(self):
        return f"{self.package}.{self.name}"


def parse_protos(proto_root):
    """(messages by full name, rpcs as (package, service, method, request full name, response full name))."""
    messages, rpcs, enums = {}, [], set()
    for folder, _, files in os.walk(proto_root):
        for file in sorted(files):
            if file.endswith(".proto"):
                with open(os.path.join(folder, file), encoding="utf-8") as f:
                    parse_proto(strip_proto_comments(f.read()), messages, rpcs, enums)
    return messages, rpcs, enums


def parse_proto(text, messages, rpcs, enums):
    package = re.search(r"^\s*package\s+([\w.]+)\s*;", text, re.M).group(1)
    tokens = re.findall(r"[\w.]+|[{}();=<>,]", text)
    i, stack = 0, []  # stack of ("message", Message) / ("oneof", name) / ("service", name) / ("other", None)
    while i < len(tokens):
        t = tokens[i]
        if t in ("message", "enum", "service", "oneof") and i + 2 < len(tokens) and tokens[i + 2] == "{":
            name = tokens[i + 1]
            if t == "message":
                message = Message(package, name)
                messages[message.full] = message
                stack.append(("message", message))
            elif t == "oneof" and stack and stack[-1][0] == "message":
                stack[-1][1].fields.append((name, "oneof"))
                stack.append(("oneof", stack[-1][1]))
            elif t == "enum":
                enums.add(f"{package}.{name}")
                stack.append(("other", None))
            else:
                stack.append((t, name))
            i += 3
            continue
        if t == "{":
            stack.append(("other", None))
        elif t == "}":
            if stack:
                stack.pop()
        elif t == "rpc" and stack and stack[-1][0] == "service":
            # rpc Name ( [stream] Req ) returns ( [stream] Res )
            j = i + 1
            name = tokens[j]
            args = []
            while j < len(tokens) and len(args) < 2:
                if tokens[j] == "(":
                    k = j + 1
                    if tokens[k] == "stream":
                        k += 1
                    args.append(tokens[k])
                j += 1
            rpcs.append((package, stack[-1][1], name, qualify(package, args[0]), qualify(package, args[1])))
        elif stack and stack[-1][0] in ("message", "oneof") and t not in ("reserved", "option"):
            # [repeated|optional] type name = N ;   or   map < K , V > name = N ;
            j = i
            if t in ("repeated", "optional"):
                j += 1
            if tokens[j] == "map" and tokens[j + 1] == "<":
                type_name, j = qualify(package, tokens[j + 4]), j + 6
            else:
                type_name, j = tokens[j], j + 1
            if j + 1 < len(tokens) and tokens[j + 1] == "=" and re.fullmatch(r"\w+", tokens[j]):
                message = stack[-1][1]
                qualified = type_name if type_name in SCALARS else qualify(package, type_name)
                if stack[-1][0] == "oneof":
                    message.oneof_types.append(qualified)
                else:
                    message.fields.append((tokens[j], qualified))
                i = j + 2
                while i < len(tokens) and tokens[i] != ";":
                    i += 1
        i += 1


def qualify(package, type_name):
    if type_name in SCALARS or "." in type_name and type_name.startswith(("wayfinder.", "google.")):
        return type_name
    if "." in type_name:  # relative to the package root, e.g. common.v1.Site
        return f"wayfinder.{type_name}" if not type_name.startswith("wayfinder.") else type_name
    return f"{package}.{type_name}"


def reachable(messages, start):
    """Every wayfinder message reachable from `start` through its fields (itself included)."""
    seen, todo = [], [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in messages:
            continue
        seen.append(name)
        message = messages[name]
        todo.extend(t for _, t in message.fields if t in messages)
        todo.extend(t for t in message.oneof_types if t in messages)
    return seen


# ---------------------------------------------------------------------------------------------------------
# rust

def rust_field(name):
    return f"r#{name}" if name in RUST_KEYWORDS else name


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


FN = re.compile(r"\bfn\s+\w+\s*(<[^{;]*?>)?\s*\(")


def functions(text):
    """(parameter text, body text) of every fn with a body."""
    out = []
    for m in FN.finditer(text):
        start = m.end() - 1
        depth, k = 0, start
        while k < len(text):
            if text[k] == "(":
                depth += 1
            elif text[k] == ")":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        params = text[start + 1:k]
        brace = text.find("{", k)
        semi = text.find(";", k)
        if brace < 0 or (0 <= semi < brace):
            continue  # a declaration without a body
        out.append((params, text[brace:matching_brace(text, brace) + 1]))
    return out


def receivers(params, body, type_name):
    """The names bound to a value of `type_name` in a function: parameters of that type and their unwrappings."""
    names = set()
    for param in split_params(params):
        m = re.match(r"\s*(?:mut\s+)?(\w+)\s*:\s*(.*)$", param, re.S)
        if m and re.search(rf"\b{type_name}\b", m.group(2)):
            names.add(m.group(1))
    changed = True
    while changed:
        changed = False
        for m in re.finditer(r"let\s+(?:mut\s+)?(\w+)\s*(?::[^=]*)?=\s*&?\s*(\w+)\s*\.\s*(?:into_inner|get_ref|get_mut)\s*\(\s*\)\s*;",
                             body):
            if m.group(2) in names and m.group(1) not in names:
                names.add(m.group(1))
                changed = True
        for m in re.finditer(r"let\s+(?:mut\s+)?(\w+)\s*=\s*&?\s*(\w+)\s*;", body):
            if m.group(2) in names and m.group(1) not in names:
                names.add(m.group(1))
                changed = True
    return names


def split_params(params):
    out, depth, current = [], 0, ""
    for c in params:
        if c in "<([":
            depth += 1
        elif c in ">)]":
            depth -= 1
        if c == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += c
    if current.strip():
        out.append(current)
    return out


def fields_read(sources, message):
    """The fields of `message` read in `sources` (a list of source texts)."""
    read = set()
    names = [rust_field(f) for f, _ in message.fields]
    for text in sources:
        for params, body in functions(text):
            if not re.search(rf"\b{message.name}\b", params + body):
                continue
            who = receivers(params, body, message.name)
            for field in names:
                if field in read:
                    continue
                escaped = re.escape(field)
                for receiver in who:
                    if re.search(rf"\b{receiver}\s*(?:\.\s*(?:get_ref|into_inner|get_mut)\s*\(\s*\))?\s*\.\s*{escaped}\b", body):
                        read.add(field)
                        break
            # destructuring: `let pb::Msg { a, b, .. } = …` or `Msg { a: x, .. } =>`
            for m in re.finditer(rf"\b{message.name}\s*\{{", body):
                literal = body[m.end() - 1:matching_brace(body, m.end() - 1) + 1]
                after = body[matching_brace(body, m.end() - 1) + 1:].lstrip()
                if after.startswith(("=", "|")) and not after.startswith("=="):
                    read.update(top_level_names(literal))
    return {f for f, _ in message.fields if rust_field(f) in read}


def top_level_names(literal):
    """Field names at the top level of a `{ … }` literal or pattern: `name:` and shorthand `name,`/`name }`."""
    names, depth, k = set(), 0, 0
    inner = literal[1:-1]
    token = ""
    segments, current = [], ""
    for c in inner:
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        if c == "," and depth == 0:
            segments.append(current)
            current = ""
        else:
            current += c
    segments.append(current)
    for segment in segments:
        m = re.match(r"\s*((?:r#)?\w+)\s*(:|$)", segment, re.S)
        if m and not segment.strip().startswith(".."):
            names.add(m.group(1))
    return names


def made_whole(sources, message):
    """Whether the service decodes `message` from stored bytes or copies it by struct update (`..other`):
    then it, and every message inside it, arrives with whatever fields were stored."""
    for text in sources:
        if re.search(rf"\b{message.name}\s*::\s*decode\b", text):
            return True
        for m in re.finditer(rf"\b{message.name}\s*\{{", text):
            literal = text[m.end() - 1:matching_brace(text, m.end() - 1) + 1]
            update = re.search(r",?\s*\.\.\s*([^}]+?)\s*\}\s*$", literal, re.S)
            if update and not re.fullmatch(r"(?:[\w:]+::)?Default::default\(\)", update.group(1).strip()):
                return True
    return False


def fields_set(sources, message):
    """The fields of `message` the service names in its literals or assigns."""
    names = {rust_field(f): f for f, _ in message.fields}
    found = set()
    for text in sources:
        for m in re.finditer(rf"\b{message.name}\s*\{{", text):
            before = text[max(0, m.start() - 40):m.start()]
            if re.search(r"(->|\bfor|\bimpl|\bstruct|\benum|\blet|\bmatch|\bif\s+let|\bwhile\s+let)\s*(?:[\w:]+::)?\s*$", before):
                continue  # a return type, impl block, pattern or declaration, not a literal
            open_at = m.end() - 1
            literal = text[open_at:matching_brace(text, open_at) + 1]
            after = text[matching_brace(text, open_at) + 1:].lstrip()
            if after.startswith("=") and not after.startswith("=="):
                continue  # a destructuring pattern
            found.update(top_level_names(literal))
        for params, body in functions(text):
            who = mutable_receivers(params, body, message.name)
            for receiver in who:
                for field in names:
                    if re.search(rf"\b{receiver}\s*\.\s*{re.escape(field)}\s*(=(?!=)|\.\s*(push|extend|insert|append|get_or_insert_with)\s*\()", body):
                        found.add(field)
    return {names[f] for f in found if f in names}


def mutable_receivers(params, body, type_name):
    """Names of values of `type_name` a function may change: `&mut Msg` parameters, and `let mut x` bound to a
    literal or default of it."""
    names = {name for name in receivers(params, "", type_name)
             if re.search(rf"(\w+)\s*:\s*&\s*mut\s+(?:[\w:]+::)?{type_name}\b", params)}
    for m in re.finditer(rf"let\s+mut\s+(\w+)\s*(?::\s*(?:[\w:]+::)?{type_name}\s*)?=\s*(?:[\w:]+::)?{type_name}\s*(?:\{{|::\s*default\s*\(|::\s*decode\s*\()", body):
        names.add(m.group(1))
    for m in re.finditer(rf"let\s+mut\s+(\w+)\s*:\s*(?:[\w:]+::)?{type_name}\s*=", body):
        names.add(m.group(1))
    return names


def read_sources(folders):
    texts = []
    for folder in folders:
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            if os.sep + "tests" in dirpath[len(ROOT):] or dirpath.endswith("tests"):
                continue  # test modules: a test setting a field does not make the service set it
            for file in sorted(files):
                if file.endswith(".rs") and file != "tests.rs":
                    with open(os.path.join(dirpath, file), encoding="utf-8") as f:
                        texts.append(strip_tests(strip_comments(f.read())))
    return texts


def strip_tests(text):
    """Removes `#[cfg(test)] mod … { … }` blocks: tests setting a field do not make the service set it."""
    while True:
        m = re.search(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", text)
        if not m:
            return text
        end = matching_brace(text, m.end() - 1)
        text = text[:m.start()] + text[end + 1:]


# ---------------------------------------------------------------------------------------------------------
# the check

def findings(messages, rpcs, sources_of):
    """Sorted finding keys: 'Service/Method request field' and 'Service/Method response Message.field'."""
    out = []
    cache_read, cache_set, whole = {}, {}, {}
    for package, service, method, request, response in rpcs:
        sources = sources_of(package)
        if sources is None:
            continue
        if package not in whole:
            made = [name for name in messages if made_whole(sources, messages[name])]
            whole[package] = {inner for name in made for inner in reachable(messages, name)}
        rpc = f"{package}.{service}/{method}"
        if request in messages:
            key = (package, request)
            if key not in cache_read:
                cache_read[key] = fields_read(sources, messages[request])
            for field, _ in messages[request].fields:
                if field not in cache_read[key]:
                    out.append(f"{rpc} request {field}")
        for name in reachable(messages, response):
            if name in whole[package]:
                continue
            key = (package, name)
            if key not in cache_set:
                cache_set[key] = fields_set(sources, messages[name])
            for field, _ in messages[name].fields:
                if field not in cache_set[key]:
                    out.append(f"{rpc} response {messages[name].name}.{field}")
    return sorted(set(out))


def load_allowlist(path):
    entries = {}
    if not os.path.exists(path):
        return entries
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            text = line.split("#", 1)[0].strip()
            if text:
                if "#" not in line:
                    print(f"{path}:{number}: an allowlisted finding needs a comment saying why", file=sys.stderr)
                    entries[text] = None
                else:
                    entries[text] = number
    return entries


def main(argv):
    if "--self-test" in argv:
        return self_test()
    messages, rpcs, _ = parse_protos(PROTO)
    cache = {}

    def sources_of(package):
        if package not in SOURCES:
            return None
        if package not in cache:
            cache[package] = read_sources(SOURCES[package])
        return cache[package]

    found = findings(messages, rpcs, sources_of)
    if "--report" in argv:
        for finding in found:
            print(finding)
        print(f"{len(found)} findings over {len(rpcs)} RPCs", file=sys.stderr)
        return 0
    allowed = load_allowlist(ALLOWLIST)
    unlisted = [f for f in found if f not in allowed]
    stale = [f for f in allowed if f not in found]
    uncommented = [f for f, n in allowed.items() if n is None]
    for finding in unlisted:
        print(f"contract: {finding} — never {'read' if ' request ' in finding else 'set'}", file=sys.stderr)
    for entry in stale:
        print(f"contract: allowlisted but no longer found (remove it): {entry}", file=sys.stderr)
    if unlisted or stale or uncommented:
        print(f"check-contract: {len(unlisted)} unlisted findings, {len(stale)} stale allowlist lines "
              f"(scripts/contract-allowlist.txt)", file=sys.stderr)
        return 1
    print(f"check-contract: {len(rpcs)} RPCs, every request field read and every response field set "
          f"({len(found)} allowlisted)")
    return 0


def self_test():
    proto = """
        syntax = "proto3";
        package wayfinder.demo.v1;
        service DemoService {
          rpc ListThings(ListThingsRequest) returns (ListThingsResponse);
        }
        message ListThingsRequest { string site = 1; int32 page_size = 2; string type = 3; oneof key { string a = 4; string b = 5; } }
        message ListThingsResponse { repeated Thing things = 1; string next_page_token = 2; }
        message Thing { string id = 1; string deadline = 2; string label = 3; }
    """
    rust = """
        async fn list(&self, request: Request<pb::ListThingsRequest>) -> Result<Response<pb::ListThingsResponse>, Status> {
            let req = request.into_inner();
            let size = req.page_size;
            let other = row.site; // not the request's site
            match req.key { _ => {} }
            let things = rows.iter().map(|r| pb::Thing { id: r.id.clone(), label, ..Default::default() }).collect();
            Ok(Response::new(pb::ListThingsResponse { things, next_page_token }))
        }
        fn to_thing() -> pb::Thing { todo() }
        #[cfg(test)]
        mod tests { fn t(request: pb::ListThingsRequest) { let _ = request.r#type; let _ = pb::Thing { deadline: 1 }; } }
    """
    messages, rpcs, enums = {}, [], set()
    parse_proto(strip_proto_comments(proto), messages, rpcs, enums)
    assert [f for f, _ in messages["wayfinder.demo.v1.ListThingsRequest"].fields] == ["site", "page_size", "type", "key"]
    found = findings(messages, rpcs, lambda _: [strip_tests(strip_comments(rust))])
    expected = [
        "wayfinder.demo.v1.DemoService/ListThings request site",
        "wayfinder.demo.v1.DemoService/ListThings request type",
        "wayfinder.demo.v1.DemoService/ListThings response Thing.deadline",
    ]
    assert found == expected, found
    # the fix of each: reading the filter, the keyword field, and setting the deadline clears its finding
    fixed = rust.replace("let size = req.page_size;", "let size = req.page_size; let s = &req.site; let t = req.r#type;")
    fixed = fixed.replace("label, ..Default", "label, deadline: d, ..Default")
    assert findings(messages, rpcs, lambda _: [strip_tests(strip_comments(fixed))]) == [], "fixed"
    # a message decoded whole, or copied by struct update, has every field set
    copied = rust.replace("pb::Thing { id: r.id.clone(), label, ..Default::default() }", "pb::Thing { id, ..stored }")
    assert findings(messages, rpcs, lambda _: [strip_tests(strip_comments(copied))]) == expected[:2]
    print("check-contract self-test: each rule catches its breach")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
