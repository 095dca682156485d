#!/usr/bin/python3
"""Writes src/main/resources/io/damjava/eval/class-phrases.json: how the official DLC-Bench scorer
(evaluation/eval_model_outputs.py of NVlabs/describe-anything, Apache-2.0) names each class in its
recognition question: "plural" where its is_plural() holds ("bus" excepted), else inflect's
engine().a(name), e.g. "an apple".

Needs Debian's python3-inflect (without root: `apt-get download python3-inflect` and
`dpkg-deb -x python3-inflect_*.deb DIR`, then PYTHONPATH=DIR/usr/lib/python3/dist-packages).
Class names come from DLC-Bench's class_names.json, or from official _eval.json caches (their
recognition questions name the class). Run from dam-eval/:
    /usr/bin/python3 tools/make_class_phrases.py FILE.json [FILE.json ...]
"""
import json
import re
import sys

import inflect

PLURAL = re.compile(r"Is it likely that the objects in the description are (.*) or objects of")
SINGULAR = re.compile(r"Is it likely that the object in the description is an? (.*) or an object of")


def names_in(path):
    with open(path) as f:
        data = json.load(f)
    for key, value in data.items():
        if isinstance(value, str):  # class_names.json: key -> name
            yield value
        elif isinstance(value, dict) and "details_recognition" in value:
            q = value["details_recognition"][0]["question"]
            m = PLURAL.match(q) or SINGULAR.match(q)
            yield m.group(1)


def main():
    p = inflect.engine()

    def is_plural(s):
        return s != "bus" and p.singular_noun(s) is not False

    names = sorted({n for path in sys.argv[1:] for n in names_in(path)})
    table = {n: ("plural" if is_plural(n) else p.a(n)) for n in names}
    out = {
        "source": "Debian python3-inflect 2.1.0-4: is_plural() and inflect.engine().a() as"
        " evaluation/eval_model_outputs.py of NVlabs/describe-anything (Apache-2.0) forms them;"
        " written by dam-eval/tools/make_class_phrases.py",
        "phrases": table,
    }
    with open("src/main/resources/io/damjava/eval/class-phrases.json", "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
