#!/usr/bin/python3
"""The Debian packages the project's Python code needs, and a check that every import resolves.

  python_deps.py --packages   print the Debian packages to install (one line, for apt-get)
  python_deps.py --check      import every module that a .py file of this repository imports;
                              on failure name the missing Debian package and exit 1

Only the standard library is used here, so the check runs before anything is installed. A module
that is neither standard, ours, nor in PACKAGES fails the check: add it to the table.
"""
import ast
import importlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# top-level module -> Debian package (Debian 12 and 13 carry all of these)
PACKAGES = {
    "torch": "python3-torch",
    "numpy": "python3-numpy",
    "PIL": "python3-pil",
    "sentencepiece": "python3-sentencepiece",
    "google": "python3-protobuf",  # sentencepiece's sentencepiece_model_pb2 and onnx need it
    "onnx": "python3-onnx",
    "pycocotools": "python3-pycocotools",
    "inflect": "python3-inflect",
}
# imported by the packages above at import time, not by our files: installed with them
ALWAYS = ["google"]
SKIP_DIRS = {".git", "target", "node_modules", "__pycache__"}


def python_files():
    for d, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS)
        for f in sorted(files):
            if f.endswith(".py"):
                yield os.path.join(d, f)


def imported_modules(path):
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            for a in node.names:
                yield node.module + "." + a.name  # may be a submodule (sentencepiece_model_pb2)


def local_modules():
    return {os.path.splitext(os.path.basename(p))[0] for p in python_files()}


def needed():
    """{dotted module: [files importing it]} for every third-party import."""
    ours = local_modules()
    std = set(sys.stdlib_module_names)
    out = {}
    for path in python_files():
        for mod in imported_modules(path):
            top = mod.split(".")[0]
            if top in std or top in ours or top == "__future__":
                continue
            out.setdefault(mod, set()).add(os.path.relpath(path, ROOT))
    return out


def check():
    missing = []
    for mod, files in sorted(needed().items()):
        top = mod.split(".")[0]
        if top not in PACKAGES:
            missing.append("%s (imported by %s) is not in tools/python_deps.py's PACKAGES: add its Debian package"
                           % (mod, ", ".join(sorted(files))))
            continue
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name == mod and "." in mod:
                try:  # `from x import y` where y is an attribute of x, not a submodule
                    parent = importlib.import_module(mod.rsplit(".", 1)[0])
                    if hasattr(parent, mod.rsplit(".", 1)[1]):
                        continue
                except ImportError:
                    pass
            gone = (e.name or top).split(".")[0]
            pkg = PACKAGES.get(gone, PACKAGES[top])
            missing.append("import %s failed (%s): install the Debian package %s (imported by %s)"
                           % (mod, e, pkg, ", ".join(sorted(files))))
        except ImportError as e:
            missing.append("import %s failed (%s): reinstall the Debian package %s" % (mod, e, PACKAGES[top]))
    for line in missing:
        print("python deps: " + line, file=sys.stderr)
    if not missing:
        print("python deps: %d third-party imports resolve" % len(needed()))
    return 1 if missing else 0


def main():
    if sys.argv[1:] == ["--packages"]:
        tops = {m.split(".")[0] for m in needed()} | set(ALWAYS)
        print(" ".join(sorted({PACKAGES[t] for t in tops if t in PACKAGES})))
        return 0
    if sys.argv[1:] == ["--check"]:
        return check()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
