#!/usr/bin/env python3
# check_snippets.py -- CTest `docs_snippets`: every C program the README,
# the guide (docs/*.md) and the section-3 pages show must build and do what
# the text says, so the documentation cannot drift from the library.
#   Markdown: every ```c block is a whole translation unit with its own
#   #includes, compiled with the project's warnings (-c when it has no
#   main). A block with main is linked against rankflow and must be followed
#   by a ```console block of `$ mpirun -n N ./NAME ARGS` (or `$ ./NAME ARGS`)
#   lines, each followed by the program's exact stdout; the commands run in
#   order, in one empty directory per block; `# exit K` at the end of a `$`
#   line expects exit code K (else 0). A ```console block further on that
#   runs such a program of the same file (./NAME), or a program given with
#   --program (rankflow-hello-flow ...), is run and compared the same way.
#   Man pages: the program between .EX and .EE of EXAMPLES is compiled and
#   run on 1 and on 3 ranks; it must exit 0.
# Usage: check_snippets.py --cc MPICC --include DIR --lib LIBRARY
#          --mpiexec MPIEXEC [--program NAME=PATH]... FILE...
#        (EXAMPLE_CFLAGS: extra compiler flags)
# SPDX-License-Identifier: BSD-3-Clause
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

TIMEOUT = 120
CFLAGS = ["-std=c17", "-Wall", "-Wextra", "-Werror"]


def markdown_blocks(path):
    """Yield (line, info, text) for each fenced block of a Markdown file."""
    lines = open(path, encoding="utf-8").read().splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(```+)\s*(\S*)", lines[i])
        if m:
            fence, info, start = m.group(1), m.group(2), i + 1
            j = start
            while j < len(lines) and not lines[j].startswith(fence):
                j += 1
            yield start, info, "\n".join(lines[start:j]) + "\n", j
            i = j + 1
        else:
            i += 1


def man_examples(path):
    """Yield (line, text) for each .EX/.EE block of a man page's EXAMPLES."""
    lines = open(path, encoding="utf-8").read().splitlines()
    section, block, start = None, None, 0
    for n, line in enumerate(lines, 1):
        if line.startswith(".SH"):
            section = line[3:].strip().strip('"').upper()
        elif line.startswith(".EX") and section == "EXAMPLES":
            block, start = [], n + 1
        elif line.startswith(".EE") and block is not None:
            text = "\n".join(block) + "\n"
            text = text.replace("\\e", "\\").replace("\\-", "-").replace("\\&", "")
            yield start, text
            block = None
        elif block is not None:
            block.append(line)


def has_main(text):
    return re.search(r"^\s*int\s+main\s*\(", text, re.M) is not None


class Checker:
    def __init__(self, args):
        self.args = args
        self.failures = 0
        self.programs = 0
        self.runs = 0
        self.extra = shlex.split(os.environ.get("EXAMPLE_CFLAGS", ""))
        libdir = os.path.dirname(os.path.abspath(args.lib))
        self.link = [args.lib, f"-Wl,-rpath,{libdir}"]

    def fail(self, where, msg, output=""):
        self.failures += 1
        print(f"FAIL: {where}: {msg}")
        if output:
            print("    " + output.rstrip().replace("\n", "\n    "))

    def compile(self, where, text, work, name, link):
        src = os.path.join(work, name + ".c")
        with open(src, "w", encoding="utf-8") as f:
            f.write(text)
        out = os.path.join(work, name + (".o" if not link else ""))
        cmd = [self.args.cc] + CFLAGS + self.extra + ["-I", self.args.include]
        cmd += ["-c", src, "-o", out] if not link else [src, "-o", out] + self.link
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            self.fail(where, f"does not compile ({' '.join(cmd[:1] + CFLAGS)} ...)", r.stderr)
            return None
        self.programs += 1
        return out

    def run(self, where, argv, cwd, want_rc, want_out=None):
        self.runs += 1
        try:
            r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                               timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail(where, f"'{' '.join(argv)}' did not end within {TIMEOUT} s")
            return
        if r.returncode != want_rc:
            self.fail(where, f"'{' '.join(argv)}' exited {r.returncode}, the text says {want_rc}",
                      r.stdout + r.stderr)
        elif want_out is not None and r.stdout.rstrip("\n") != want_out.rstrip("\n"):
            self.fail(where, f"'{' '.join(argv)}' printed other than the text shows",
                      "printed:\n" + r.stdout + "\nthe text:\n" + want_out)

    def mpirun(self, n, exe, args):
        return [self.args.mpiexec, "-n", str(n), "--oversubscribe", exe] + args

    def markdown(self, path):
        blocks = list(markdown_blocks(path))
        lines = open(path, encoding="utf-8").read().splitlines()
        built = tempfile.TemporaryDirectory()   # this file's programs, by name
        programs = {}
        checked = set()
        for k, (line, info, text, end) in enumerate(blocks):
            where = f"{os.path.relpath(path)}:{line}"
            if info == "console" and k not in checked:
                self.later_console(where, text, programs)
                continue
            if info != "c":
                continue
            with tempfile.TemporaryDirectory() as work:
                if not has_main(text):
                    self.compile(where, text, work, "snippet", link=False)
                    continue
                nxt = blocks[k + 1] if k + 1 < len(blocks) else None
                between = lines[end + 1:nxt[0] - 1] if nxt else []
                if nxt is None or nxt[1] != "console" or any(l.strip() for l in between):
                    self.fail(where, "a program with main() not followed by a ```console block of its run")
                    continue
                checked.add(k + 1)
                name = self.console(where, text, nxt[2], work)
                if name:
                    kept = os.path.join(built.name, name)
                    os.replace(os.path.join(work, name), kept)
                    programs[name] = kept
        built.cleanup()

    def parse_console(self, where, console):
        """[(ranks or None, program word, args, exit code, stdout)] or None."""
        runs, cur = [], None
        for line in console.splitlines():
            if line.startswith("$ "):
                cur = [line[2:], []]
                runs.append(cur)
            elif cur is None:
                self.fail(where, "the ```console block does not start with a '$ ' line")
                return None
            else:
                cur[1].append(line)
        parsed = []
        for cmd, out in runs:
            rc = 0
            m = re.search(r"\s+#\s*exit\s+(\d+)\s*$", cmd)
            if m:
                rc, cmd = int(m.group(1)), cmd[:m.start()]
            words = shlex.split(cmd)
            if words[:2] == ["mpirun", "-n"] and len(words) >= 4 and words[2].isdigit():
                parsed.append((int(words[2]), words[3], words[4:], rc, "\n".join(out)))
            elif words:
                parsed.append((None, words[0], words[1:], rc, "\n".join(out)))
            else:
                self.fail(where, "an empty '$' line")
                return None
        return parsed

    def later_console(self, where, console, programs):
        """A console block away from its program: run it when it runs a
        program of this file or a given one; any other is not checked."""
        parsed = self.parse_console(where, console)
        if not parsed:
            return
        def path_of(word):
            if word.startswith("./") and word[2:] in programs:
                return programs[word[2:]]
            return self.args.program.get(word)
        if any(path_of(w) is None for _, w, _, _, _ in parsed):
            return
        with tempfile.TemporaryDirectory() as work, tempfile.TemporaryDirectory() as bin_dir:
            for n, word, args, rc, out in parsed:
                exe = path_of(word)
                if not word.startswith("./"):   # run as named: it says its name
                    link = os.path.join(bin_dir, word)
                    if not os.path.exists(link):
                        os.symlink(os.path.abspath(exe), link)
                    exe = link
                argv = self.mpirun(n, exe, args) if n is not None else [exe] + args
                self.run(where, argv, work, rc, out)

    def console(self, where, text, console, work):
        """Build the program and run its console block; its name, or None."""
        parsed = self.parse_console(where, console)
        if not parsed:
            return None
        names = set()
        for _, exe, _, _, _ in parsed:
            if not exe.startswith("./") or "/" in exe[2:]:
                self.fail(where, f"'{exe}': the block under a program runs it as ./NAME "
                          "(with mpirun -n N or without)")
                return None
            names.add(exe[2:])
        if len(names) != 1:
            self.fail(where, f"the ```console block runs {len(names)} programs, want one (this one)")
            return None
        name = names.pop()
        if self.compile(where, text, work, name, link=True) is None:
            return None
        for n, exe, args, rc, out in parsed:
            argv = self.mpirun(n, exe, args) if n is not None else [exe] + args
            self.run(where, argv, work, rc, out)
        return name

    def man(self, path):
        for line, text in man_examples(path):
            where = f"{os.path.relpath(path)}:{line}"
            with tempfile.TemporaryDirectory() as work:
                if self.compile(where, text, work, "example", link=has_main(text)) is None:
                    continue
                if not has_main(text):
                    self.fail(where, "EXAMPLES holds no complete program (no main)")
                    continue
                for n in (1, 3):
                    self.run(where, self.mpirun(n, "./example", []), work, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", required=True)
    ap.add_argument("--include", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--program", action="append", default=[],
                    help="NAME=PATH: a program console blocks may run by NAME")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    args.program = dict(p.split("=", 1) for p in args.program)
    c = Checker(args)
    for f in args.files:
        if f.endswith(".md"):
            c.markdown(f)
        else:
            c.man(f)
    print(f"check_snippets: {len(args.files)} files, {c.programs} programs built, "
          f"{c.runs} runs: " + ("PASS" if c.failures == 0 else f"{c.failures} failures"))
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
