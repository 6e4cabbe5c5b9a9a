"""Checking and applying one import: each row keyed (a person by external id or phone, a
merchant by programme and name, an area by code), compared with what exists, and reported as
``create``, ``update``, ``unchanged`` or ``refused`` with the reasons per column. A file with
any refused row applies nothing; one without applies in the caller's transaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ledger.bulk import open_accounts
from ledger.clock import now
from merchants import offers as merchant_offers
from merchants.models import Merchant
from volunteers import access, areas, audit, users
from volunteers.errors import Invalid
from volunteers.models import AREA_LEVELS, Area, Programme, RoleGrant, User

from .files import read_table

KINDS = ("volunteers", "merchants", "areas", "courtyards")
ADMIN_ROLES = ("admin",)
LEVEL_NAMES = {"区": "district", "街道": "street", "镇": "street", "社区": "community",
               "村": "community", "网格": "grid", "院落": "courtyard", "小区": "courtyard"}
PHONE = re.compile(r"^\+?[0-9 -]{5,20}$")
EXTERNAL_ID = re.compile(r"^[\w.-]{1,64}$")
MAX_LISTED_ROWS = 20_000


@dataclass(frozen=True)
class Column:
    name: str          # the field
    title: str         # the column's Chinese name in the template
    required: bool = False
    aliases: tuple[str, ...] = ()


COLUMNS = {
    "volunteers": (
        Column("external_id", "外部编号", aliases=("external_id", "工号", "编号")),
        Column("display_name", "姓名", True, ("display_name", "name", "名字")),
        Column("phone", "手机号", aliases=("phone", "手机", "电话")),
        Column("username", "用户名", aliases=("username",)),
        Column("area", "所属区域代码", True, ("area", "区域代码")),
    ),
    "merchants": (
        Column("name", "商户名称", True, ("name", "名称")),
        Column("programme", "项目代码", True, ("programme",)),
        Column("area", "所属区域代码", True, ("area", "区域代码")),
        Column("address", "地址", aliases=("address",)),
        Column("category", "类别", aliases=("category",)),
        Column("phone", "电话", aliases=("phone", "联系电话")),
    ),
    "areas": (
        Column("code", "区域代码", True, ("code", "代码")),
        Column("name", "名称", True, ("name", "区域名称")),
        Column("level", "级别", True, ("level",)),
        Column("parent", "上级区域代码", True, ("parent", "上级代码")),
        Column("centre_lat", "中心纬度", aliases=("lat", "纬度")),
        Column("centre_lng", "中心经度", aliases=("lng", "经度")),
    ),
    "courtyards": (
        Column("code", "院落代码", True, ("code", "代码")),
        Column("name", "院落名称", True, ("name", "名称")),
        Column("parent", "所属网格代码", True, ("parent", "网格代码", "上级区域代码")),
        Column("centre_lat", "中心纬度", aliases=("lat", "纬度")),
        Column("centre_lng", "中心经度", aliases=("lng", "经度")),
    ),
}
EXAMPLES = {
    "volunteers": [["R0001", "张三", "13800138000", "", "sanyuan"]],
    "merchants": [["大丰老茶馆", "fengxingxia", "dafeng", "大丰街道1号", "餐饮", "028-12345678"]],
    "areas": [["xinfeng", "新丰社区", "社区", "dafeng", "", ""]],
    "courtyards": [["xf-yuan1", "一号院", "xf-grid1", "30.85", "104.15"]],
}


@dataclass
class RowResult:
    line: int                       # the spreadsheet's row number (the header is row 1)
    action: str                     # create, update, unchanged, refused
    key: str = ""
    problems: dict[str, list[str]] = field(default_factory=dict)
    values: dict = field(default_factory=dict)


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    rows: list[RowResult]
    applied: bool = False

    @property
    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
        names = {"create": "created", "update": "updated", "unchanged": "unchanged",
                 "refused": "refused"}
        for row in self.rows:
            counts[names[row.action]] += 1
        return counts


def template(kind: str) -> tuple[list[str], list[list[str]]]:
    _check_kind(kind)
    return [column.title for column in COLUMNS[kind]], EXAMPLES[kind]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise Invalid(f"unknown import kind {kind!r}", errors={"kind": [f"one of {KINDS}"]})


def run(session: Session, actor, kind: str, data: bytes, filename: str = "", *,
        dry_run: bool = True, progress: Callable[[int], None] | None = None) -> ImportReport:
    """Checks every row of the file and, unless ``dry_run`` or a row is refused, applies
    them. Flushes; the caller commits (or rolls back)."""
    _check_kind(kind)
    access.require(actor, ADMIN_ROLES)
    header, body = read_table(data, filename)
    records = _records(kind, header, body)
    checker = {"volunteers": VolunteerImport, "merchants": MerchantImport,
               "areas": AreaImport, "courtyards": AreaImport}[kind](session, actor, kind)
    report = ImportReport(kind=kind, dry_run=dry_run, rows=checker.check(records))
    if dry_run or report.counts["refused"]:
        return report
    checker.apply(report.rows, progress)
    counts = report.counts
    if counts["created"] or counts["updated"]:
        audit.record(session, actor, f"import.{kind}", filename[:200] or kind, None,
                     counts | {"file": filename[:200]},
                     area=_home_area(actor))
    report.applied = True
    return report


def _home_area(actor):
    admin_areas = [grant.area for grant in actor.grants if grant.role in ADMIN_ROLES]
    return min(admin_areas, key=lambda a: len(a.path)) if admin_areas else None


def _records(kind: str, header: list[str], body: list[list[str]]) -> list[tuple[int, dict]]:
    """Each row as {field: text}; the header must name every required column."""
    positions = {}
    for index, title in enumerate(header):
        title = title.strip().lstrip("\ufeff")
        for column in COLUMNS[kind]:
            if title == column.title or title.lower() in column.aliases:
                positions[column.name] = index
    missing = [c.title for c in COLUMNS[kind] if c.required and c.name not in positions]
    if missing:
        raise Invalid("the file lacks required columns", errors={
            "columns": [f"missing: {', '.join(missing)}",
                        f"expected: {', '.join(c.title for c in COLUMNS[kind])}"]})
    return [(number, {name: (row[i] if i < len(row) else "") for name, i in positions.items()})
            for number, row in enumerate(body, start=2)]


class Checker:
    def __init__(self, session: Session, actor, kind: str):
        self.session, self.actor, self.kind = session, actor, kind
        self.areas = {a.code: a for a in session.scalars(select(Area))}

    def area_problem(self, code: str) -> str | None:
        area = self.areas.get(code)
        if area is None:
            return f"unknown area {code}"
        if area.closed_at is not None:
            return f"area {code} is closed"
        if not access.holds(self.actor, ADMIN_ROLES, area):
            return f"area {code} is outside your areas"
        return None


class VolunteerImport(Checker):
    """A person keyed by their external id, else their phone number."""

    def check(self, records):
        found_by_external = {}
        found_by_phone = {}
        externals = [r["external_id"] for _, r in records if r.get("external_id")]
        phones = [r["phone"] for _, r in records if r.get("phone")]
        for chunk in _chunks(externals):
            for user in self.session.scalars(select(User).where(User.external_id.in_(chunk))):
                found_by_external[user.external_id] = user
        for chunk in _chunks(phones):
            for user in self.session.scalars(select(User).where(User.phone.in_(chunk))):
                found_by_phone.setdefault(user.phone, []).append(user)
        wanted_names = [r.get("username") or _made_username(r) for _, r in records]
        taken = set()
        for chunk in _chunks([n for n in wanted_names if n]):
            taken |= set(self.session.scalars(select(User.username).where(
                User.username.in_(chunk))))
        seen: dict[str, int] = {}
        results = []
        for (line, record), username in zip(records, wanted_names, strict=True):
            results.append(self._row(line, record, username, found_by_external,
                                     found_by_phone, taken, seen))
        return results

    def _row(self, line, record, username, by_external, by_phone, taken, seen) -> RowResult:
        problems: dict[str, list[str]] = {}
        external, phone = record.get("external_id", ""), record.get("phone", "")
        name, area_code = record.get("display_name", ""), record.get("area", "")
        key = f"external_id:{external}" if external else f"phone:{phone}"
        if not external and not phone:
            problems["external_id"] = ["an external id or a phone number is required"]
        if external and not EXTERNAL_ID.match(external):
            problems["external_id"] = ["letters, digits, _ . -, at most 64"]
        if phone and not PHONE.match(phone):
            problems["phone"] = ["not a phone number"]
        if not name or len(name) > 120:
            problems["display_name"] = ["1 to 120 characters"]
        area_problem = self.area_problem(area_code)
        if area_problem:
            problems["area"] = [area_problem]
        duplicate = key in seen
        if duplicate:
            problems.setdefault("external_id" if external else "phone", []).append(
                f"the same person as row {seen[key]}")
        seen.setdefault(key, line)
        existing = by_external.get(external) if external else None
        if existing is None and phone:
            matches = by_phone.get(phone, [])
            if len(matches) > 1:
                problems["phone"] = ["several people have this phone: give an external id"]
            elif matches and not (external and matches[0].external_id
                                  and matches[0].external_id != external):
                existing = matches[0]
        values = {"external_id": external or None, "phone": phone or None,
                  "display_name": name, "area": area_code}
        if existing is None and not duplicate:
            if not username or not users.USERNAME_PATTERN.match(username):
                problems["username"] = [users.USERNAME_RULE]
            elif username in taken:
                problems["username"] = [f"user name {username} is taken"]
            taken.add(username)
            values["username"] = username
        if problems:
            return RowResult(line, "refused", key, problems, values)
        if existing is None:
            return RowResult(line, "create", key, {}, values)
        if not access.holds(self.actor, ADMIN_ROLES, existing.area):
            return RowResult(line, "refused", key, {
                "area": [f"{existing.username} lives in an area outside yours"]}, values)
        values["user_id"] = existing.id
        changed = (existing.display_name != name or existing.area.code != area_code
                   or (external and not existing.external_id)
                   or (phone and not existing.phone))
        return RowResult(line, "update" if changed else "unchanged", key, {}, values)

    def apply(self, rows, progress):
        created = [row for row in rows if row.action == "create"]
        moment = now()
        for chunk in _chunks(created, 1_000):
            ids = list(self.session.scalars(
                insert(User).returning(User.id, sort_by_parameter_order=True),
                [{"username": row.values["username"], "password_hash": "",
                  "display_name": row.values["display_name"], "phone": row.values["phone"],
                  "external_id": row.values["external_id"],
                  "area_id": self.areas[row.values["area"]].id, "active": True,
                  "created_at": moment} for row in chunk]))
            self.session.execute(insert(RoleGrant), [
                {"user_id": user_id, "role": "volunteer",
                 "area_id": self.areas[row.values["area"]].id}
                for user_id, row in zip(ids, chunk, strict=True)])
            open_accounts(self.session, [f"volunteer:{i}:wallet" for i in ids], "POINT",
                          "liability", no_overdraft=True, owner_type="volunteer",
                          owner_ids=ids)
            for row, user_id in zip(chunk, ids, strict=True):
                row.values["user_id"] = user_id
            if progress:
                progress(len(chunk))
        for row in rows:
            if row.action == "update":
                user = self.session.get(User, row.values["user_id"])
                area = self.areas[row.values["area"]]
                user.display_name = row.values["display_name"]
                user.external_id = user.external_id or row.values["external_id"]
                user.phone = user.phone or row.values["phone"]
                if user.area_id != area.id:
                    user.area = area
                    users.grant_role(self.session, user, "volunteer", area.code)
            if row.action != "create" and progress:
                progress(1)
        self.session.flush()


def _made_username(record) -> str:
    """A user name for a person the file names none for: ``v`` and their external id, else
    ``v`` and their phone's digits."""
    if record.get("external_id"):
        return f"v{record['external_id']}"[:64]
    digits = re.sub(r"\D", "", record.get("phone") or "")
    return f"v{digits}" if digits else ""


class MerchantImport(Checker):
    """A merchant keyed by its programme and its name."""

    def check(self, records):
        programmes = {p.code: p for p in self.session.scalars(select(Programme))}
        existing = {(m.programme_id, m.name): m for m in self.session.scalars(select(Merchant))}
        seen: dict[tuple, int] = {}
        results = []
        for line, record in records:
            problems: dict[str, list[str]] = {}
            name = record.get("name", "")
            programme = programmes.get(record.get("programme", ""))
            if not name or len(name) > 120:
                problems["name"] = ["1 to 120 characters"]
            if programme is None:
                problems["programme"] = [f"unknown programme {record.get('programme', '')}"]
            area_problem = self.area_problem(record.get("area", ""))
            if area_problem:
                problems["area"] = [area_problem]
            elif programme is not None and not programme.area.contains(
                    self.areas[record["area"]]):
                problems["area"] = ["outside the programme's area"]
            if record.get("phone") and not PHONE.match(record["phone"]):
                problems["phone"] = ["not a phone number"]
            key = (programme.id if programme else None, name)
            if key in seen:
                problems.setdefault("name", []).append(f"the same merchant as row {seen[key]}")
            seen.setdefault(key, line)
            values = {field: record.get(field) or None
                      for field in ("name", "programme", "area", "address", "category",
                                    "phone")}
            label = f"{record.get('programme', '')}:{name}"
            if problems:
                results.append(RowResult(line, "refused", label, problems, values))
                continue
            found = existing.get(key)
            if found is None:
                results.append(RowResult(line, "create", label, {}, values))
                continue
            values["merchant_id"] = found.id
            same = (found.area.code == values["area"] and found.address == values["address"]
                    and found.category == values["category"] and found.phone == values["phone"])
            results.append(RowResult(line, "unchanged" if same else "update", label, {}, values))
        return results

    def apply(self, rows, progress):
        for row in rows:
            values = row.values
            if row.action == "create":
                merchant = merchant_offers.create_merchant(
                    self.session, self.actor, name=values["name"],
                    programme_code=values["programme"], area_code=values["area"],
                    address=values["address"], category=values["category"],
                    phone=values["phone"])
                row.values["merchant_id"] = merchant.id
            elif row.action == "update":
                merchant = self.session.get(Merchant, values["merchant_id"])
                before = audit.snapshot(merchant, ("address", "category", "phone"))
                merchant.area = self.areas[values["area"]]
                merchant.address, merchant.category = values["address"], values["category"]
                merchant.phone = values["phone"]
                audit.record(self.session, self.actor, "merchant.update",
                             f"merchant:{merchant.id}", before,
                             audit.snapshot(merchant, ("address", "category", "phone")),
                             area=merchant.area)
            if progress:
                progress(1)
        self.session.flush()


class AreaImport(Checker):
    """An area keyed by its code; a row may name as parent an area made by an earlier row."""

    def check(self, records):
        planned: dict[str, str] = {}   # code -> level of areas this file creates
        seen: dict[str, int] = {}
        results = []
        for line, record in records:
            problems: dict[str, list[str]] = {}
            code, name = record.get("code", ""), record.get("name", "")
            parent_code = record.get("parent", "")
            level = "courtyard" if self.kind == "courtyards" else LEVEL_NAMES.get(
                record.get("level", ""), record.get("level", ""))
            if not areas.CODE_PATTERN.match(code):
                problems["code"] = [areas.CODE_RULE]
            if not name or len(name) > 120:
                problems["name"] = ["1 to 120 characters"]
            if level not in AREA_LEVELS[1:]:
                problems["level"] = ["区, 街道, 社区, 网格 or 院落"]
            parent_level = planned.get(parent_code)
            if parent_level is None:
                area_problem = self.area_problem(parent_code)
                if area_problem:
                    problems["parent"] = [area_problem]
                else:
                    parent_level = self.areas[parent_code].level
            if parent_level and level in AREA_LEVELS and \
                    AREA_LEVELS.index(level) != AREA_LEVELS.index(parent_level) + 1:
                problems["parent"] = [f"a {level} cannot sit under a {parent_level}"]
            centre = _centre(record, problems)
            if code in seen:
                problems.setdefault("code", []).append(f"the same area as row {seen[code]}")
            seen.setdefault(code, line)
            values = {"code": code, "name": name, "level": level, "parent": parent_code,
                      "centre": centre}
            existing = self.areas.get(code)
            if existing is not None and not problems:
                if existing.level != level:
                    problems["level"] = [f"area {code} is a {existing.level}"]
                elif not access.holds(self.actor, ADMIN_ROLES, existing):
                    problems["code"] = [f"area {code} is outside your areas"]
            if problems:
                results.append(RowResult(line, "refused", code, problems, values))
                continue
            if existing is None:
                planned[code] = level
                results.append(RowResult(line, "create", code, {}, values))
                continue
            same = (existing.name == name and existing.parent is not None
                    and existing.parent.code == parent_code
                    and (centre is None or (existing.centre_lat, existing.centre_lng) == centre))
            results.append(RowResult(line, "unchanged" if same else "update", code, {}, values))
        return results

    def apply(self, rows, progress):
        for row in rows:
            values = row.values
            if row.action == "create":
                areas.add_area(self.session, self.actor, values["code"], values["name"],
                               values["level"], values["parent"], None, values["centre"])
            elif row.action == "update":
                changes = {"name": values["name"], "parent": values["parent"]}
                if values["centre"] is not None:
                    changes["centre"] = values["centre"]
                areas.update_area(self.session, self.actor, values["code"], changes)
            if progress:
                progress(1)
        self.session.flush()


def _centre(record, problems) -> tuple[float, float] | None:
    lat, lng = record.get("centre_lat", ""), record.get("centre_lng", "")
    if not lat and not lng:
        return None
    try:
        centre = (float(lat), float(lng))
    except ValueError:
        problems["centre_lat"] = ["two numbers: latitude and longitude"]
        return None
    if areas.geometry_errors(None, centre):
        problems["centre_lat"] = ["latitude -90 to 90, longitude -180 to 180"]
        return None
    return centre


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]
