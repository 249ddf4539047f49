#!/usr/bin/env python3
# check_man.py HEADER MAN3_DIR -- CTest `man_coverage`: the section-3 pages
# are sources kept by hand, so this keeps them true to rankflow.h:
#   - every RF_API declaration of the header appears, token for token (less
#     RF_API and RF_PRINTF), in the SYNOPSIS of exactly one page, and every
#     function a SYNOPSIS declares is one the header declares (no stale
#     prototype survives a change of the API);
#   - a typedef a SYNOPSIS shows is the header's, token for token;
#   - every public type, enum constant, status code and macro of the header
#     is named in some page;
#   - each page's NAME line lists exactly the functions its SYNOPSIS
#     declares (plus macros and types it declares), the page's own name
#     first: the link pages (man rf_future_wait) are made from these lines.
# Prints one line per problem and exits 1, or a summary and 0.
# SPDX-License-Identifier: BSD-3-Clause
import os
import re
import sys

TOKEN = re.compile(r"\.\.\.|\w+|[^\s\w]")


def tokens(text):
    return TOKEN.findall(text)


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def statements(text):
    """Split C text into top-level statements ending with ';' (braces kept
    inside), preprocessor lines dropped."""
    text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    out, cur, depth = [], [], 0
    for tok in tokens(text):
        cur.append(tok)
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        elif tok == ";" and depth == 0:
            out.append(cur)
            cur = []
    return out


def drop_attributes(toks):
    """Remove RF_API and RF_PRINTF(a, b) from a token list."""
    out, i = [], 0
    while i < len(toks):
        if toks[i] == "RF_API":
            i += 1
        elif toks[i] == "RF_PRINTF" and i + 1 < len(toks) and toks[i + 1] == "(":
            j = toks.index(")", i)
            i = j + 1
        else:
            out.append(toks[i])
            i += 1
    return out


def declared_name(stmt):
    """Name of a function declared by stmt (tokens), or None."""
    if not stmt or stmt[0] in ("typedef", "enum", "struct"):
        return None
    if "(" not in stmt:
        return None
    i = stmt.index("(")
    name = stmt[i - 1] if i > 0 else None
    return name if name and re.match(r"^rf_\w+$", name) else None


def typedef_name(stmt):
    if not stmt or stmt[0] != "typedef":
        return None
    if stmt[-2] == ")":  # function pointer: typedef T (*name)(...)
        i = stmt.index("(")
        return stmt[i + 2] if stmt[i + 1] == "*" else None
    return stmt[-2]


def read_header(path):
    raw = open(path, encoding="utf-8").read()
    body = strip_comments(raw)
    # C++'s extern "C" { ... } wrapper is not part of the C declarations.
    body = re.sub(r"#ifdef __cplusplus\n.*?#endif", "", body, flags=re.S)
    # Join continued #define lines, then take the public macros.
    joined = re.sub(r"\\\n", " ", body)
    macros = set(re.findall(r"^#define\s+(RF_[A-Z0-9_]*[A-Z0-9])\b", joined, re.M))
    macros -= {"RF_API", "RF_PRINTF", "RF_STATUS_MAP", "RF_WITHOUT_MPI_H"}
    codes = {"RF_" + c for c in re.findall(r"\bX\((\w+),", joined)}
    decls, typedefs, constants = {}, {}, set()
    for stmt in statements(joined):
        stmt = [t for t in stmt if t != "\\"]
        name = declared_name(drop_attributes(stmt)) if "RF_API" in stmt else None
        if name:
            decls[name] = drop_attributes(stmt)
            continue
        tname = typedef_name(stmt)
        if tname:
            typedefs[tname] = stmt
            if stmt[1] == "enum":
                constants.update(t for t in stmt if re.match(r"^RF_[A-Z0-9_]*[A-Z0-9]$", t)
                                 and not t.endswith("_"))
        elif stmt[0] == "enum":
            constants.update(t for t in stmt if re.match(r"^RF_[A-Z0-9_]*[A-Z0-9]$", t))
    constants -= {"RF_STATUS_MAP", "RF_STATUS_ENUM_", "RF_STATUS_COUNT_"}
    return decls, typedefs, macros, constants | codes


def unroff(text):
    text = re.sub(r"\\f[BIRP]|\\f\(\w\w|\\f\[\w*\]", "", text)
    return text.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")


def read_page(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    sections, cur = {}, None
    for line in lines:
        m = re.match(r'^\.SH\s+"?([^"]*)"?\s*$', line)
        if m:
            cur = m.group(1).strip().upper()
            sections[cur] = []
        elif cur:
            sections[cur].append(line)
    return lines, sections


def main():
    header, mandir = sys.argv[1], sys.argv[2]
    decls, typedefs, macros, constants = read_header(header)
    problems = []
    where = {name: [] for name in decls}
    texts = {}
    pages = sorted(f for f in os.listdir(mandir) if f.endswith(".3"))
    if not pages:
        problems.append(f"no pages in {mandir}")
    for page in pages:
        path = os.path.join(mandir, page)
        lines, sections = read_page(path)
        texts[page] = unroff("\n".join(lines))
        own = page[:-2]
        if "SPDX-License-Identifier: BSD-3-Clause" not in lines[0]:
            problems.append(f"{page}: line 1 is not the SPDX comment")
        if len(lines) < 2 or not re.match(rf"^\.TH {re.escape(own.upper())} 3 ", lines[1]):
            problems.append(f"{page}: line 2 is not '.TH {own.upper()} 3 ...'")
        syn = [l for l in sections.get("SYNOPSIS", []) if not l.startswith(".")]
        syn_text = strip_comments(unroff("\n".join(syn)))
        if "#include <rankflow.h>" not in syn_text:
            problems.append(f"{page}: SYNOPSIS lacks #include <rankflow.h>")
        stmts = statements(syn_text)
        functions = []
        for stmt in stmts:
            fname = declared_name(stmt)
            if fname:
                functions.append(fname)
                if fname not in decls:
                    problems.append(f"{page}: SYNOPSIS declares {fname}, which rankflow.h does not")
                elif stmt != decls[fname]:
                    problems.append(f"{page}: SYNOPSIS of {fname} differs from rankflow.h:\n"
                                    f"    page:   {' '.join(stmt)}\n"
                                    f"    header: {' '.join(decls[fname])}")
                else:
                    where[fname].append(page)
                continue
            tname = typedef_name(stmt)
            if tname:
                functions.append(tname)
                want = typedefs.get(tname)
                if want is None:
                    problems.append(f"{page}: SYNOPSIS defines type {tname}, which rankflow.h does not")
                elif "RF_STATUS_MAP" not in want and stmt != want:
                    problems.append(f"{page}: SYNOPSIS type {tname} differs from rankflow.h")
        syn_words = set(re.findall(r"\w+", syn_text))
        name_lines = [l for l in sections.get("NAME", []) if l and not l.startswith(".")]
        if len(name_lines) != 1 or "\\-" not in name_lines[0]:
            problems.append(f"{page}: NAME is not one line 'names \\- what'")
            continue
        names = [n.strip() for n in name_lines[0].split("\\-")[0].split(",")]
        if names[0] != own:
            problems.append(f"{page}: NAME does not start with the page's own name {own}")
        for n in names:
            if n != own and n not in syn_words:
                problems.append(f"{page}: NAME lists {n}, which its SYNOPSIS does not declare")
        for f in functions:
            if f in decls and f not in names:
                problems.append(f"{page}: NAME lacks {f}, which its SYNOPSIS declares")
    for name, found in sorted(where.items()):
        if len(found) == 0:
            problems.append(f"{name}: declared in rankflow.h, in no page's SYNOPSIS")
        elif len(found) > 1:
            problems.append(f"{name}: in the SYNOPSIS of {len(found)} pages ({', '.join(found)})")
    alltext = "\n".join(texts.values())
    words = set(re.findall(r"\w+", alltext))
    for kind, names in (("type", typedefs), ("macro", macros), ("constant", constants)):
        for n in sorted(names):
            if n not in words:
                problems.append(f"{kind} {n} of rankflow.h is named in no page")
    for p in problems:
        print("FAIL: " + p)
    print(f"check_man: {len(pages)} pages, {len(decls)} functions, {len(typedefs)} types, "
          f"{len(macros)} macros, {len(constants)} constants: "
          + ("PASS" if not problems else f"{len(problems)} problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
