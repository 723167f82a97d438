"""cdktf_schema.py (the schema rebuild behind the validate stub) on a miniature of the CDKTF
bindings' layout: blocks vs attributes, nesting, required-ness, computed attributes, truncation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = (
    Path(__file__).resolve().parents[2]
    / "scripts"
    / "tools"
    / "aws-provider-schema-stub"
    / "cdktf_schema.py"
)


def _attr(name: str, is_block: bool, kind: str, storage: str) -> str:
    return (
        f"        {name}: {{\n"
        f"            value: cdktf.anyToHclTerraform(this._{name}),\n"
        f"            isBlock: {'true' if is_block else 'false'},\n"
        f'            type: "{kind}",\n'
        f'            storageClassType: "{storage}",\n'
        "        },\n"
    )


def _prop(tf_name: str, owner: str, optional: bool, ts_type: str) -> str:
    return (
        "    /**\n"
        "    * Docs at Terraform Registry: "
        f"{{@link https://example/docs#{tf_name} {owner}#{tf_name}}}\n"
        "    */\n"
        f"    readonly {tf_name}{'?' if optional else ''}: {ts_type};\n"
    )


def _write(lib: Path, folder: str, js: str, dts: str) -> None:
    (lib / folder).mkdir(parents=True)
    (lib / folder / "index.js").write_text(js, encoding="utf-8")
    (lib / folder / "index.d.ts").write_text(dts, encoding="utf-8")


def _miniature(lib: Path) -> None:
    _write(
        lib,
        "provider",
        "class AwsProvider extends cdktf.TerraformProvider {\n"
        "    synthesizeHclAttributes() {\n        const attrs = {\n"
        + _attr("region", False, "simple", "string")
        + "        };\n    }\n}\n"
        "const meta = { providerVersion: '6.25.0' };\n"
        'AwsProvider.tfResourceType = "aws";\n',
        "export interface AwsProviderConfig {\n"
        + _prop("region", "AwsProvider", True, "string")
        + "}\n",
    )
    _write(
        lib,
        "widget",
        "function widgetRuleToHclTerraform(struct) {\n    const attrs = {\n"
        + _attr("values", False, "set", "stringMapList")
        + _attr("statement", False, "simple", "any")
        + "    };\n}\n"
        "class WidgetRuleOutputReference extends cdktf.ComplexObject {\n"
        "    get ruleId() { return this.getStringAttribute('rule_id'); }\n"
        "}\n"
        "class Widget extends cdktf.TerraformResource {\n"
        "    get arn() { return this.getStringAttribute('arn'); }\n"
        "    get names() { return this.getListAttribute('names'); }\n"
        "    synthesizeHclAttributes() {\n        const attrs = {\n"
        + _attr("name", False, "simple", "string")
        + _attr("tags", False, "map", "stringMap")
        + _attr("rule", True, "list", "WidgetRuleList")
        + _attr("setting", True, "set", "WidgetRuleList")
        + _attr("timeouts", True, "struct", "WidgetRule")
        + "        };\n    }\n}\n"
        'Widget.tfResourceType = "aws_widget";\n',
        "export interface WidgetConfig extends cdktf.TerraformMetaArguments {\n"
        + _prop("name", "Widget", False, "string")
        + _prop("tags", "Widget", True, "{ [key: string]: string }")
        + _prop("rule", "Widget", False, "WidgetRule")
        + _prop("setting", "Widget", True, "WidgetRule[] | cdktf.IResolvable")
        + "}\nexport interface WidgetRule {\n"
        + _prop("values", "Widget", True, "{ [key: string]: string }[]")
        + "}\n",
    )


def _convert(tmp_path: Path) -> dict[str, Any]:
    lib = tmp_path / "lib"
    _miniature(lib)
    out = tmp_path / "schema.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(lib), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    schema: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return schema


def test_attributes_keep_their_types_and_required_ness(tmp_path: Path) -> None:
    widget = _convert(tmp_path)["resource_schemas"]["aws_widget"]["block"]
    assert widget["attributes"]["name"] == {"type": "string", "required": True}
    assert widget["attributes"]["tags"]["type"] == ["map", "string"]
    assert widget["attributes"]["tags"]["optional"] is True
    assert widget["attributes"]["arn"] == {"type": "string", "computed": True}
    assert widget["attributes"]["names"] == {"type": ["list", "string"], "computed": True}


def test_blocks_keep_nesting_and_item_limits(tmp_path: Path) -> None:
    blocks = _convert(tmp_path)["resource_schemas"]["aws_widget"]["block"]["block_types"]
    assert blocks["rule"]["nesting_mode"] == "list"
    assert (blocks["rule"]["min_items"], blocks["rule"]["max_items"]) == (1, 1)
    assert blocks["setting"]["nesting_mode"] == "set"
    assert "max_items" not in blocks["setting"]
    assert "min_items" not in blocks["setting"]
    assert blocks["timeouts"]["nesting_mode"] == "single"
    rule = blocks["rule"]["block"]
    assert rule["attributes"]["values"]["type"] == ["set", ["map", "string"]]
    assert rule["attributes"]["rule_id"] == {"type": "string", "computed": True}


def test_truncated_subtrees_are_reported_and_left_empty(tmp_path: Path) -> None:
    schema = _convert(tmp_path)
    assert schema["truncated"] == [
        "aws_widget.rule.statement",
        "aws_widget.setting.statement",
        "aws_widget.timeouts.statement",
    ]
    rule = schema["resource_schemas"]["aws_widget"]["block"]["block_types"]["rule"]["block"]
    assert rule["block_types"]["statement"] == {"nesting_mode": "list", "block": {}}


def test_provider_block_and_version(tmp_path: Path) -> None:
    schema = _convert(tmp_path)
    assert schema["provider_version"] == "6.25.0"
    assert schema["provider"]["block"]["attributes"]["region"]["optional"] is True


def test_a_folder_without_the_provider_is_refused(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(lib), str(tmp_path / "out.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "no provider class" in result.stderr
