"""Schema validation for Whiteslip's deployment files; run by packages/deploy-tests.

  python validate.py k8s --versions 1.30,1.37 FILE...   multi-document YAML (kustomize output)
  python validate.py compose --schema compose-spec.json FILE

Prints one JSON object on stdout: {"documents": [...parsed objects...], "errors": [...]}.
Kubernetes objects are checked against the strict JSON schemas that the PyPI
package kubernetes-validate ships (generated from the Kubernetes OpenAPI spec,
additionalProperties false: unknown fields, wrong types and missing required
fields fail). Every error is reported, not only the first, and a kind without
a schema is an error. The compose file is checked against the compose-spec
JSON schema. Exit status 0 even with errors: the caller asserts on them.
"""

import argparse
import json
import sys

import jsonschema
import yaml
from kubernetes_validate import utils as kv
from referencing import Registry, Resource


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def k8s_schema(obj, version, cache):
    """The strict schema for obj's kind and apiVersion at a Kubernetes minor version."""
    api = obj.get("apiVersion", "")
    group_version = api.split("/")
    if len(group_version) == 2:
        group = group_version[0].split(".")[0]
        suffix = f"{group}-{group_version[1]}"
    else:
        suffix = api
    shipped = [v for v in kv.all_versions() if kv.major_minor(v) == version]
    if not shipped:
        raise SystemExit(f"kubernetes-validate {kv.__version__} has no schemas for Kubernetes {version}")
    folder = f"kubernetes-json-schema/v{shipped[-1]}-local-strict"
    key = (folder, obj.get("kind", "").lower(), suffix)
    if key not in cache:
        try:
            schema = kv.schema_contents(f"{folder}/{key[1]}-{suffix}.json", version)
        except FileNotFoundError:
            cache[key] = None
            return None
        defs = kv.schema_contents(f"{folder}/_definitions.json", version)
        registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
        cache[key] = jsonschema.validators.Draft202012Validator(schema, registry=registry)
    return cache[key]


def where(error):
    return ".".join(str(p) for p in error.absolute_path) or "(root)"


def check_k8s(files, versions):
    documents, errors, cache = [], [], {}
    for path in files:
        for obj in load_all(path):
            ident = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
            documents.append({"file": path, "object": obj})
            for version in versions:
                validator = k8s_schema(obj, version, cache)
                if validator is None:
                    errors.append({"file": path, "object": ident, "version": version, "path": "(root)",
                                   "message": f"no schema for {obj.get('apiVersion')} {obj.get('kind')}"})
                    continue
                for e in validator.iter_errors(obj):
                    errors.append({"file": path, "object": ident, "version": version,
                                   "path": where(e), "message": e.message})
    return {"documents": documents, "errors": errors}


def check_compose(path, schema_path):
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    docs = load_all(path)
    doc = docs[0] if docs else {}
    # The schema names draft 2019-09 in a form jsonschema does not look up.
    cls = jsonschema.validators.Draft201909Validator
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    errors = [{"file": path, "object": "compose", "path": where(e), "message": e.message}
              for e in validator.iter_errors(doc)]
    return {"documents": [{"file": path, "object": doc}], "errors": errors}


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("k8s")
    k.add_argument("--versions", required=True)
    k.add_argument("files", nargs="+")
    c = sub.add_parser("compose")
    c.add_argument("--schema", required=True)
    c.add_argument("file")
    args = parser.parse_args()
    if args.cmd == "k8s":
        out = check_k8s(args.files, [v.strip() for v in args.versions.split(",")])
    else:
        out = check_compose(args.file, args.schema)
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main()
