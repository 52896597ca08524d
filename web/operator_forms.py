"""The operator's filing form (SPEC §9): what a submitted form means as the API's filing content,
what a filing's content looks like in the form again, and where each error or correction goes.

Field names are the API's field paths (`outlet.name`, `person_in_charge.mobile`), so a service's
`FieldError.field` names its input. The content is validated by the same schemas and services as
the API (services/filings/actions.py); nothing here decides whether a value is allowed.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData

from domain.errors import FieldError
from domain.vocabulary import BusinessScope, DocumentKind, OutletType, RegionLevel
from services.reference import brands as brand_list
from services.reference import regions

CITY = "451100"  # Hezhou: the counties an outlet may lie in

# Every input of the form: its name (the API's field path) and its label (SPEC §9).
FIELD_LABELS: dict[str, str] = {
    "outlet.name": "网点名称",
    "outlet.type": "网点类型",
    "outlet.scope": "业务范围",
    "outlet.brands": "服务品牌",
    "outlet.county_code": "所在县区",
    "outlet.township_code": "所在乡镇",
    "outlet.address": "详细地址",
    "outlet.opened_on": "开办日期",
    "outlet.business_hours": "营业时间",
    "outlet.floor_area_m2": "面积（平方米）",
    "outlet.staff_count": "从业人数",
    "outlet.has_cctv": "有监控设备",
    "person_in_charge.name": "负责人姓名",
    "person_in_charge.id_number": "负责人身份证号码",
    "person_in_charge.mobile": "负责人手机号码",
    "partner.name": "合作方名称",
    "partner.id_number_or_uscc": "合作方证件号码",
    "partner.mobile": "合作方手机号码",
    "changed_on": "变更日期",
}
SECTION_LABELS = {"outlet": "网点信息", "person_in_charge": "负责人", "partner": "合作方"}
TEXT_FIELDS = [name for name in FIELD_LABELS if name not in ("outlet.scope", "outlet.brands")]
LIST_FIELDS = ("outlet.scope", "outlet.brands")
OPTIONAL_FIELDS = ("outlet.business_hours", "outlet.floor_area_m2", "outlet.staff_count")
PARTNER_FIELDS = ("partner.name", "partner.id_number_or_uscc", "partner.mobile")
MAX_VALUE_CHARS = 500  # a form value longer than any field allows is cut (and then refused)


def field_id(name: str) -> str:
    """The HTML id of a field's input (`outlet.name` → `f-outlet-name`)."""
    return "f-" + name.replace(".", "-").replace("_", "-")


def where_label(name: str) -> str:
    """What a field path or document names, in Chinese (`documents.id_document`: 负责人身份证明)."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    kind = name.removeprefix("documents.")
    if kind in DocumentKind.values():
        return DocumentKind(kind).label
    section = name.split(".")[0]
    return SECTION_LABELS.get(section, name)


# --- the form's values ------------------------------------------------------------------------


def empty_values() -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "")
    values.update({name: [] for name in LIST_FIELDS})
    values["outlet.has_cctv"] = False
    return values


def values_from_form(form: FormData) -> dict[str, Any]:
    """What the user typed, as it will be shown again (nothing lost on an error)."""
    values = empty_values()
    for name in TEXT_FIELDS:
        raw = form.get(name)
        if isinstance(raw, str):
            values[name] = raw.strip()[:MAX_VALUE_CHARS]
    for name in LIST_FIELDS:
        values[name] = [v.strip()[:64] for v in form.getlist(name) if isinstance(v, str)][:20]
    values["outlet.has_cctv"] = form.get("outlet.has_cctv") in ("true", "on", "1")
    return values


def values_from_content(content: Mapping[str, Any], *, changed_on: Any = None) -> dict[str, Any]:
    """A revision's content as form values."""
    values = empty_values()
    for section in ("outlet", "person_in_charge", "partner"):
        for key, value in (content.get(section) or {}).items():
            name = f"{section}.{key}"
            if name in LIST_FIELDS:
                values[name] = [str(item) for item in value or []]
            elif name == "outlet.has_cctv":
                values[name] = bool(value)
            elif name in values:
                values[name] = "" if value is None else _plain(value)
    values["changed_on"] = "" if changed_on is None else str(changed_on)
    return values


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def content_from_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The filing content the API's schema validates (FilingContent). An empty required field is
    left out, so it is reported as missing (必填); an empty optional one is null. The partner
    belongs to a cooperative outlet only: for any other type it is left out."""
    content: dict[str, Any] = {"outlet": {}, "person_in_charge": {}}
    for name in TEXT_FIELDS:
        if name == "changed_on" or name.startswith("partner."):
            continue
        section, key = name.split(".", 1)
        value = values.get(name, "")
        if name == "outlet.has_cctv":
            content[section][key] = bool(value)
        elif value != "":
            content[section][key] = value
        elif name in OPTIONAL_FIELDS:
            content[section][key] = None
    for name in LIST_FIELDS:
        content["outlet"][name.split(".", 1)[1]] = list(values.get(name) or [])
    if values.get("outlet.type") == OutletType.COOPERATIVE:
        partner = {
            name.split(".", 1)[1]: values[name] for name in PARTNER_FIELDS if values.get(name)
        }
        content["partner"] = partner or None
    else:
        content["partner"] = None
    return content


# --- errors and corrections next to their fields ----------------------------------------------


@dataclass
class Remarks:
    """Messages to show next to inputs (by field name), by document kind, and the rest (shown
    above the form, with the label of what they concern)."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    documents: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.documents or self.general)

    def add(self, where: str, message: str, known: Collection[str] | None = None) -> None:
        name = _input_for(where, FIELD_LABELS if known is None else known)
        if name is not None:
            self.fields.setdefault(name, []).append(message)
        elif where.startswith("documents."):
            self.documents.setdefault(where.removeprefix("documents."), []).append(message)
        elif where in SECTION_LABELS:
            self.fields.setdefault(where, []).append(message)
        else:
            self.general.append(message)


def _input_for(path: str, known: Collection[str] = FIELD_LABELS.keys()) -> str | None:
    """The input a field path concerns: itself, or the list it is an item of (`outlet.brands.1`)."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in known:
            return name
    return None


def remarks_from_errors(
    errors: Iterable[FieldError], *, known: Collection[str] | None = None
) -> Remarks:
    """Errors by the input they concern; `known` names the inputs (default: the filing form's)."""
    remarks = Remarks()
    for error in errors:
        remarks.add(error.field, error.message, known)
    return remarks


def remarks_from_corrections(corrections: Sequence[Mapping[str, str]]) -> Remarks:
    """A returned submission's corrections (SPEC §3: every one in one notice), each next to the
    field or document it names."""
    remarks = Remarks()
    for item in corrections:
        reason = item.get("reason", "")
        if item.get("document"):
            remarks.documents.setdefault(item["document"], []).append(reason)
        elif item.get("field"):
            where = item["field"]
            if _input_for(where) is None and where.split(".")[0] not in SECTION_LABELS:
                remarks.general.append(f"{where}：{reason}")
            else:
                remarks.add(where, reason)
    return remarks


# --- choices ----------------------------------------------------------------------------------


@dataclass
class Choices:
    types: list[tuple[str, str]]
    scopes: list[tuple[str, str]]
    brands: list[tuple[str, str]]
    counties: list[tuple[str, str]]
    townships: list[tuple[str, str, list[tuple[str, str]]]]  # (county code, name, [(code, name)])
    kinds: list[tuple[str, str]]


def choices(session: Session) -> Choices:
    tree = regions.region_tree(session, CITY)
    top = tree[0].children if tree else []
    counties = [node for node in top if node.level == RegionLevel.COUNTY]
    return Choices(
        types=[(member.value, member.label) for member in OutletType],
        scopes=[(member.value, member.label) for member in BusinessScope],
        brands=[(brand.code, brand.name) for brand in brand_list.list_brands(session)],
        counties=[(county.code, county.name) for county in counties],
        townships=[
            (county.code, county.name, [(town.code, town.name) for town in county.children])
            for county in counties
        ],
        kinds=[(member.value, member.label) for member in DocumentKind],
    )
