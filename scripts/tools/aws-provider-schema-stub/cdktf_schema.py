"""Rebuild the hashicorp/aws provider schema from HashiCorp's generated CDKTF bindings.

The bindings (@cdktf/provider-aws, also published on PyPI as cdktf-cdktf-provider-aws) are
generated from `terraform providers schema -json` of one provider release. For every resource,
data source and the provider block they keep, per argument: the Terraform name, whether it is a
block, its collection kind and element type (the `synthesizeHclAttributes`/`*ToHclTerraform`
tables of index.js), whether it is optional (`?` in the Config interfaces of index.d.ts), whether
a block holds one item or many (a single struct vs an array), and the computed-only attributes
(`get x() { return this.getStringAttribute('x') }`). That is what `terraform validate` checks.

Two things are lost in the bindings and so not checked by a stub built from this schema:
provider-side validation (value ranges, enums, ConflictsWith) and the contents of the five
subtrees the generator truncates to `any` (wafv2 `statement`, some quicksight definitions),
which become blocks that accept only an empty body (see `TRUNCATED` in the output).

usage: python3 cdktf_schema.py <package lib dir> <schema.json>
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ATTR_RE = re.compile(
    r'^\s+"?(?P<name>[A-Za-z_][\w-]*)"?: \{\n\s+value: [^\n]*\n'
    r'\s+isBlock: (?P<block>true|false),\n\s+type: "(?P<kind>\w+)",\n'
    r'\s+storageClassType: "(?P<storage>\w+)",',
    re.MULTILINE,
)
FUNCTION_RE = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{\n(.*?)^\}", re.M | re.S)
CLASS_RE = re.compile(r"^class (\w+) extends cdktf\.(\w+) \{\n(.*?)^\}", re.M | re.S)
GETTER_RE = re.compile(r"get \w+\(\) \{\s*return this\.get(\w*)Attribute\('([\w-]+)'\);")
TYPE_NAME_RE = re.compile(r'^(\w+)\.tfResourceType = "([\w-]+)";', re.M)
INTERFACE_RE = re.compile(r"^export interface (\w+)(?: extends [^{]+)? \{\n(.*?)^\}", re.M | re.S)
PROPERTY_RE = re.compile(
    r"#([\w-]+) [\w.]+#[\w-]+\}\n(?:\s+\*[^\n]*\n)*?\s+\*/\n\s+readonly \w+(\??): ([^;]+);"
)

PRIMITIVES = {"string": "string", "number": "number", "boolean": "bool", "any": "dynamic"}
GETTER_TYPES: dict[str, Any] = {
    "String": "string",
    "Number": "number",
    "Boolean": "bool",
    "List": ["list", "string"],
    "NumberList": ["list", "number"],
    "StringMap": ["map", "string"],
    "NumberMap": ["map", "number"],
    "BooleanMap": ["map", "bool"],
    "AnyMap": ["map", "dynamic"],
    "Any": "dynamic",
}
TRUNCATED: list[str] = []


def _attribute_type(kind: str, storage: str) -> Any:
    if kind == "simple":
        return PRIMITIVES[storage]
    # The storage name reads inside out: stringMapList is a list of maps of strings. The
    # outermost collection is `kind` (list or set for a List suffix).
    match = re.fullmatch(r"(string|number|boolean)((?:List|Map)+)", storage)
    if match is None:
        raise ValueError(f"unknown attribute storage {kind}/{storage}")
    element: Any = PRIMITIVES[match.group(1)]
    wrappers = re.findall(r"List|Map", match.group(2))
    for index, wrapper in enumerate(wrappers):
        outermost = index == len(wrappers) - 1
        element = [kind if outermost else wrapper.lower(), element]
    return element


def _struct_name(storage: str) -> str:
    for suffix in ("OutputReference", "List", "Map"):
        if storage.endswith(suffix):
            return storage[: -len(suffix)]
    return storage


def _properties(dts: str) -> dict[str, dict[str, tuple[bool, str]]]:
    """interface name -> terraform name -> (optional, TypeScript type)."""
    interfaces: dict[str, dict[str, tuple[bool, str]]] = {}
    for name, body in INTERFACE_RE.findall(dts):
        interfaces[name] = {
            tf_name: (optional == "?", ts_type.strip())
            for tf_name, optional, ts_type in PROPERTY_RE.findall(body)
        }
    return interfaces


def _block(
    attrs: list[re.Match[str]],
    props: dict[str, tuple[bool, str]],
    computed: dict[str, Any],
    structs: dict[str, list[re.Match[str]]],
    interfaces: dict[str, dict[str, tuple[bool, str]]],
    getters: dict[str, dict[str, Any]],
    where: str,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    block_types: dict[str, Any] = {}
    for match in attrs:
        name, storage, kind = match["name"], match["storage"], match["kind"]
        optional, ts_type = props.get(name, (True, ""))
        path = f"{where}.{name}"
        if match["block"] == "false":
            # The generator writes `any` only where it cut a too-deep block out of the bindings.
            if storage == "any":
                TRUNCATED.append(path)
                block_types[name] = {"nesting_mode": "list", "block": {}}
                continue
            spec: dict[str, Any] = {"type": _attribute_type(kind, storage)}
            spec.update({"optional": True, "computed": True} if optional else {"required": True})
            attributes[name] = spec
            continue
        struct = _struct_name(storage)
        nested = _block(
            structs.get(struct, []),
            interfaces.get(struct, {}),
            getters.get(struct, {}),
            structs,
            interfaces,
            getters,
            path,
        )
        if kind == "struct":
            block_types[name] = {"nesting_mode": "single", "block": nested}
            continue
        entry: dict[str, Any] = {"nesting_mode": kind, "block": nested}
        if kind in ("list", "set"):  # map-nested blocks carry no item limits
            if ts_type != "" and "[]" not in ts_type:
                entry["max_items"] = 1
            if not optional:
                entry["min_items"] = 1
        block_types[name] = entry
    for name, getter_type in computed.items():
        if name not in attributes and name not in block_types:
            attributes[name] = {"type": getter_type, "computed": True}
    block: dict[str, Any] = {}
    if attributes:
        block["attributes"] = attributes
    if block_types:
        block["block_types"] = block_types
    return block


def _convert(directory: Path) -> tuple[str, str, dict[str, Any]] | None:
    js = (directory / "index.js").read_text(encoding="utf-8")
    dts = (directory / "index.d.ts").read_text(encoding="utf-8")
    type_name = TYPE_NAME_RE.search(js)
    if type_name is None:
        return None
    class_name, tf_type = type_name.groups()
    structs = {
        name[0].upper() + name[1:]: list(ATTR_RE.finditer(body))
        for name, body in FUNCTION_RE.findall(js)
    }
    getters: dict[str, dict[str, Any]] = {}
    top_attrs: list[re.Match[str]] = []
    kind = ""
    for name, base, body in CLASS_RE.findall(js):
        found = {tf: GETTER_TYPES.get(getter, "dynamic") for getter, tf in GETTER_RE.findall(body)}
        if name == class_name:
            kind = base
            synth = body.split("synthesizeHclAttributes() {", 1)
            top_attrs = list(ATTR_RE.finditer(synth[1])) if len(synth) == 2 else []
            getters[class_name] = found
        elif name.endswith("OutputReference"):
            getters[name[: -len("OutputReference")]] = found
    interfaces = _properties(dts)
    config = interfaces.get(f"{class_name}Config", {})
    block = _block(
        top_attrs, config, getters.get(class_name, {}), structs, interfaces, getters, tf_type
    )
    section = {
        "TerraformResource": "resource_schemas",
        "TerraformDataSource": "data_source_schemas",
        "TerraformProvider": "provider",
    }.get(kind)
    if section is None:
        return None
    return section, tf_type, {"version": 0, "block": block}


def main(lib: Path, out: Path) -> int:
    schema: dict[str, Any] = {"resource_schemas": {}, "data_source_schemas": {}}
    version = None
    for directory in sorted(p for p in lib.iterdir() if (p / "index.js").is_file()):
        converted = _convert(directory)
        if converted is None:
            continue
        section, tf_type, entry = converted
        if section == "provider":
            schema["provider"] = entry
            js = (directory / "index.js").read_text(encoding="utf-8")
            found = re.search(r"providerVersion: '([\d.]+)'", js)
            version = found.group(1) if found else None
        else:
            schema[section][tf_type] = entry
    if "provider" not in schema or version is None:
        print(
            f"{lib}: no provider class; is this the lib folder of @cdktf/provider-aws?",
            file=sys.stderr,
        )
        return 1
    schema["provider_version"] = version
    schema["truncated"] = sorted(TRUNCATED)
    out.write_text(json.dumps(schema, sort_keys=True), encoding="utf-8")
    print(
        f"aws provider {version}: {len(schema['resource_schemas'])} resources, "
        f"{len(schema['data_source_schemas'])} data sources, "
        f"{len(TRUNCATED)} truncated subtrees -> {out}"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
