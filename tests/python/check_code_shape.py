#!/usr/bin/env python3
"""The code's shape, checked in CI (issue #13; docs/architecture.md). One check per run:

    tests/python/check_code_shape.py sizes ROOT        no C++ file over 300 lines, every function under 60
    tests/python/check_code_shape.py unity-names ROOT  no file-local name in two files of one target
    tests/python/check_code_shape.py suites ROOT       test suites named after their files
    tests/python/check_code_shape.py library-flags ROOT  no command-line flag in the library's messages
    tests/python/check_code_shape.py run-options ROOT  the raw run flags reach at most 5 functions past the parser
    tests/python/check_code_shape.py layout ROOT       the library in layer folders, each header (CLI too) with its source

Each prints what breaks its rule and exits 1 when anything does (or when it finds no files).

sizes: a function is a definition starting in column 0 (namespaces are not indented here) whose body
runs to the next line that is exactly "}"; its length counts the signature and the closing brace.

unity-names: unity builds compile several files of a target as one, so a helper in one file's
anonymous namespace (or a static one) meets another file's helper of the same name. With the same
signature that is a compile error; with another, overload resolution silently calls the wrong one
(it happened: resolve.cpp's shape_text(IntArrayRef) lost to report_console.cpp's shape_text(vector)
and an error message changed).

suites: every TEST/TEST_F/TEST_P suite in tests/test_foo_bar.cpp starts with FooBar, so a failing
test's name says which file holds it.

library-flags: the library (src/ and include/diffbench/ outside src/cli/) names a setting by its
field through setting_name() (issue #24): no string literal in it holds "--flag" text, so a program
embedding the library is never told about a flag it does not have. Comments may name flags.

run-options: the run flags as CLI11 fills them (RunOptions) are typed once by the parser
(src/cli/run_setup.cpp, and the setup_*/add_common_options functions that register them); every
other function takes the typed RunSetup (issue #24). At most MAX_RUN_OPTIONS_FUNCTIONS function
definitions outside the parser may take or return RunOptions: the commands' entry points.

layout: the library lives in layer folders, src/LAYER/ beside include/diffbench/LAYER/ (LAYERS;
src/ also holds cli/; the samplers' own files are plug-ins without headers); each public header has its own source of the same name, and
each library source has a header of its own (public, or private beside it in src/LAYER/), but for
the backends of BACKEND_HEADERS; in src/cli/ too, each header has its source and each source its
header (main.cpp apart); no file of a layer includes a later layer (issue #24), none includes the
CLI, and inside src/cli/ no file includes one above it (options.h < parsers and helpers < commands
< main.cpp: cli_rank; issue #43).
"""
import collections
import glob
import os
import re
import sys

MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 59  # "under 60"
NOT_FUNCTIONS = re.compile(r"(namespace|struct|class|enum|union|extern|template|using|typedef|#|//|/\*|\}|\))")
TARGET_FILES = re.compile(r"add_(?:executable|library)\((\w+)\s+(?:STATIC\s+)?([^)]*)\)")
DEFINITION = re.compile(r"^(?:static\s+|inline\s+|constexpr\s+)*[\w:<>,\s\*&]+?[\s\*&](\w+)\s*\(")
NAME = re.compile(r"^(?:static\s+|constexpr\s+|const\s+)*(?:struct|class|enum(?:\s+class)?)\s+(\w+)")
VARIABLE = re.compile(r"^(?:static\s+|constexpr\s+|const\s+|inline\s+)+[\w:<>,\s\*&]+?\s(\w+)\s*(?:=|\{|\[)")
SOURCE_LIST = re.compile(r"^set\((_\w+)\s+([^)]*)\)", re.M)
SUITE = re.compile(r"^TEST(?:_F|_P)?\((\w+),", re.M)


def functions(lines):
    """(first line number, length, signature) of each column-0 function definition."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line and not line[0].isspace() and "(" in line and not NOT_FUNCTIONS.match(line):
            # the signature may span a few lines; the body opens at the end of one of them
            for j in range(i, min(i + 5, len(lines))):
                if lines[j].rstrip().endswith("{"):
                    end = j + 1
                    while end < len(lines) and lines[end] != "}":
                        end += 1
                    yield i + 1, end - i + 1, line.strip()
                    i = end
                    break
                if lines[j].rstrip().endswith(";"):
                    break  # a declaration or a namespace-scope object
        i += 1


def local_names(text):
    """Names a file defines with internal linkage: in `namespace {` blocks, `static`, or a const variable at namespace scope."""
    names = set()
    depth_anon = 0
    for line in text.split("\n"):
        if line.startswith("namespace {"):
            depth_anon += 1
            continue
        if line.startswith("}  // namespace") and depth_anon:
            depth_anon -= 1
            continue
        if not line or line[0].isspace() or line.startswith(("//", "#", "}", "using", "template")):
            continue
        # A namespace-scope const/constexpr variable has internal linkage too (kRun twice broke a unit).
        constant = line.startswith(("const ", "constexpr ")) and not depth_anon
        if depth_anon or line.startswith("static ") or constant:
            for pattern in (VARIABLE,) if constant else (NAME, DEFINITION, VARIABLE):
                match = pattern.match(line)
                if match and match.group(1) not in ("operator", "main"):
                    names.add(match.group(1))
                    break
    return names


def targets(root):
    """{target: [source paths]} from the add_library/add_executable calls of the CMakeLists files
    (a ${_list} in them expanded from its set(_list ...))."""
    found = {}
    for cmakelists in glob.glob(os.path.join(root, "**", "CMakeLists.txt"), recursive=True):
        if os.path.relpath(cmakelists, root).startswith(("build", "examples")):
            continue
        here = os.path.dirname(cmakelists)
        text = open(cmakelists, encoding="utf-8").read()
        for name, items in SOURCE_LIST.findall(text):
            text = text.replace("${" + name + "}", items)
        for target, sources in TARGET_FILES.findall(text):
            paths = [os.path.join(here, s) for s in sources.split() if s.endswith(".cpp") and "$" not in s]
            found[target] = [p for p in paths if os.path.exists(p)]
    return found


def sources(root):
    patterns = ["src/**/*.cpp", "src/**/*.h", "include/**/*.h", "tests/**/*.cpp", "tests/**/*.h", "bench/*.cpp",
                "examples/**/*.cpp"]
    return sorted({p for pattern in patterns for p in glob.glob(os.path.join(root, pattern), recursive=True)})


def check_sizes(root):
    over, longest, paths = [], (0, ""), sources(root)
    for path in paths:
        lines = open(path, encoding="utf-8").read().split("\n")
        name = os.path.relpath(path, root)
        if len(lines) - 1 > MAX_FILE_LINES:
            over.append(f"{name}: {len(lines) - 1} lines (at most {MAX_FILE_LINES})")
        for start, length, signature in functions(lines):
            longest = max(longest, (length, f"{name}:{start}"))
            if length > MAX_FUNCTION_LINES:
                over.append(f"{name}:{start}: a function of {length} lines (at most {MAX_FUNCTION_LINES}): {signature}")
    return over, len(paths), f"the longest function is {longest[0]} lines ({longest[1]})"


def check_unity_names(root):
    clashes, files = [], 0
    for target, paths in sorted(targets(root).items()):
        where = collections.defaultdict(list)
        for path in paths:
            files += 1
            for name in local_names(open(path, encoding="utf-8").read()):
                where[name].append(os.path.relpath(path, root))
        clashes += [f"{target}: '{name}' in {', '.join(ps)}" for name, ps in sorted(where.items()) if len(ps) > 1]
    return clashes, files, f"{len(clashes)} name(s) local to two files of one target"


def check_suites(root):
    wrong, paths = [], sorted(glob.glob(os.path.join(root, "tests", "test_*.cpp")))
    for path in paths:
        stem = os.path.basename(path)[len("test_"):-len(".cpp")]
        expected = "".join(word.capitalize() for word in stem.split("_"))
        for suite in sorted(set(SUITE.findall(open(path, encoding="utf-8").read()))):
            if not suite.startswith(expected):
                wrong.append(f"{os.path.relpath(path, root)}: suite '{suite}' should start with '{expected}'")
    return wrong, len(paths), f"{len(wrong)} suite(s) not named after their file"


FLAG_IN_LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*--[a-z]')


def check_library_flags(root):
    paths = sorted(p for pattern in ("src/**/*.cpp", "src/**/*.h", "include/diffbench/**/*.h")
                   for p in glob.glob(os.path.join(root, pattern), recursive=True)
                   if not os.path.relpath(p, root).startswith(os.path.join("src", "cli") + os.sep))
    found = []
    for path in paths:
        for number, line in enumerate(open(path, encoding="utf-8"), 1):
            code = line.split("//")[0] if not line.lstrip().startswith("//") else ""
            if FLAG_IN_LITERAL.search(code):
                found.append(f"{os.path.relpath(path, root)}:{number}: {line.strip()}")
    return found, len(paths), f"{len(found)} library string(s) naming a command-line flag"


MAX_RUN_OPTIONS_FUNCTIONS = 5
PARSER_FUNCTIONS = re.compile(r"\b(setup_\w+|add_\w+_options)\(")


def check_run_options(root):
    paths = sorted(p for p in glob.glob(os.path.join(root, "src", "**", "*.cpp"), recursive=True)
                   if os.path.basename(p) != "run_setup.cpp")
    found = []
    for path in paths:
        lines = open(path, encoding="utf-8").read().split("\n")
        for first, _, signature in functions(lines):
            head = " ".join(lines[first - 1:first + 4]).split("{")[0]
            if re.search(r"\bRunOptions\b", head) and not PARSER_FUNCTIONS.search(signature):
                found.append(f"{os.path.relpath(path, root)}:{first}: {signature}")
    problems = [f"{len(found)} functions past the parser take RunOptions (at most {MAX_RUN_OPTIONS_FUNCTIONS}):"] + \
        found if len(found) > MAX_RUN_OPTIONS_FUNCTIONS else []
    return problems, len(paths), f"{len(found)} function(s) past the parser take RunOptions: " + \
        "; ".join(f.split(": ", 1)[1] for f in found)


# The library's layers (docs/architecture.md), each using only those before it: src/LAYER/ and
# include/diffbench/LAYER/ side by side; samplers/ holds the registry and one plug-in per sampler.
LAYERS = ["core", "schedule", "samplers", "models", "measure", "quality", "report", "plans", "gate", "app"]
# src/samplers/NAME.cpp are plug-ins (one file per sampler, listed in list.def): no header each.
PLUG_IN_LAYERS = {"samplers"}
LAYER_INCLUDE = re.compile(r'#include "(?:diffbench/)?([a-z]+)/[a-z_]+\.(?:h|def)"')
# A header implemented by one of several backends, one per build: device.h by device_cpu.cpp or
# device_cuda.cpp (+ device_cuda_graphs.cpp).
BACKEND_HEADERS = {"src/models/device.h"}


def check_layout(root):
    rel = lambda p: os.path.relpath(p, root)  # noqa: E731
    problems, files = [], 0
    for top in ("src", os.path.join("include", "diffbench")):
        for entry in sorted(os.listdir(os.path.join(root, top))):
            path = os.path.join(root, top, entry)
            allowed = LAYERS + (["cli"] if top == "src" else [])
            if os.path.isfile(path) or entry not in allowed:
                problems.append(f"{rel(path)}: not in a layer folder ({', '.join(allowed)})")
    for layer in LAYERS:
        public = {os.path.basename(p)[:-2]: p for p in glob.glob(os.path.join(root, "include", "diffbench", layer, "*.h"))}
        private = {os.path.basename(p)[:-2]: p for p in glob.glob(os.path.join(root, "src", layer, "*.h"))}
        sources = {os.path.basename(p)[:-4]: p for p in glob.glob(os.path.join(root, "src", layer, "*.cpp"))}
        files += len(public) + len(private) + len(sources)
        for stem, path in sorted(public.items()):
            if stem not in sources:
                problems.append(f"{rel(path)}: no src/{layer}/{stem}.cpp beside it (a header is implemented by its own source)")
        for stem, path in sorted(sources.items()):
            backend = any(stem.startswith(os.path.basename(h)[:-2] + "_") and h.startswith(f"src/{layer}/")
                          for h in BACKEND_HEADERS)
            if stem not in public and stem not in private and not backend and layer not in PLUG_IN_LAYERS:
                problems.append(f"{rel(path)}: no header of its own (include/diffbench/{layer}/{stem}.h)")
    cli = os.path.join(root, "src", "cli")
    headers = {os.path.basename(p)[:-2] for p in glob.glob(os.path.join(cli, "*.h"))}
    cli_sources = {os.path.basename(p)[:-4] for p in glob.glob(os.path.join(cli, "*.cpp"))}
    files += len(headers) + len(cli_sources)
    problems += [f"src/cli/{stem}.h: no src/cli/{stem}.cpp beside it" for stem in sorted(headers - cli_sources)]
    problems += [f"src/cli/{stem}.cpp: no header of its own (src/cli/{stem}.h)"
                 for stem in sorted(cli_sources - headers - {"main"})]
    problems += layer_order_problems(root)
    return problems, files, f"{len(problems)} file(s) outside the layout or using a later layer"


def layer_order_problems(root):
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    rank["cli"] = len(LAYERS)  # the front end: above every layer, included by none
    problems = cli_order_problems(root)
    paths = glob.glob(os.path.join(root, "src", "*", "*.*")) + glob.glob(os.path.join(root, "include", "diffbench", "*", "*.h"))
    for path in sorted(paths):
        layer = os.path.basename(os.path.dirname(path))
        if layer not in rank:
            continue
        for used in LAYER_INCLUDE.findall(open(path, encoding="utf-8").read()):
            if used in rank and rank[used] > rank[layer]:
                problems.append(f"{os.path.relpath(path, root)}: the {layer} layer includes the later {used} layer")
    return problems


# src/cli/ in ranks (issue #43): options.h (every command's options) at the bottom, then the parsers
# and the helpers commands share, then the commands (*_command(s)), then main.cpp. A file includes
# only lower ranks, its own header, or (helpers only) another helper: no command includes another.
CLI_INCLUDE = re.compile(r'#include "cli/([a-z_]+)\.h"')


def cli_rank(stem):
    if stem == "options":
        return 0
    if stem == "main":
        return 3
    return 2 if re.search(r"_commands?$", stem) else 1


def cli_order_problems(root):
    problems = []
    for path in sorted(glob.glob(os.path.join(root, "src", "cli", "*.*"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        for used in CLI_INCLUDE.findall(open(path, encoding="utf-8").read()):
            if used == stem or cli_rank(used) < cli_rank(stem) or cli_rank(used) == cli_rank(stem) == 1:
                continue
            problems.append(f"{os.path.relpath(path, root)}: includes cli/{used}.h, not below it in the CLI's order "
                            "(options < parsers and helpers < commands < main)")
    return problems


CHECKS = {"sizes": check_sizes, "unity-names": check_unity_names, "suites": check_suites,
          "library-flags": check_library_flags, "run-options": check_run_options, "layout": check_layout}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CHECKS:
        print(f"usage: check_code_shape.py {{{'|'.join(CHECKS)}}} ROOT", file=sys.stderr)
        return 2
    problems, files, summary = CHECKS[sys.argv[1]](sys.argv[2])
    for line in problems:
        print(line)
    print(f"check_code_shape.py {sys.argv[1]}: {files} files; {summary}")
    return 1 if problems or files == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
