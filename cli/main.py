"""`outlet-filing`: the service's command line.

Each command imports what it needs when it runs, so the offline verifiers (`verify-draw`,
`verify-receipt`) start quickly and never touch the database.
"""

import argparse
import sys
import threading
from collections.abc import Sequence
from typing import Protocol

from core.config import SettingsError, get_settings
from domain.vocabulary import Role


def cmd_migrate(_args: argparse.Namespace) -> int:
    from core.db import session_scope
    from core.migrate import upgrade
    from services.reference import regions

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url)
    with session_scope() as session:
        written = regions.load_regions(
            session, regions.read_regions_csv(regions.DEFAULT_REGIONS_FILE)
        )
    print(f"数据库已迁移到最新版本；地区数据更新 {written} 条。")
    if settings.storage_backend == "s3":
        from core.storage import S3Storage, get_storage

        store = get_storage()
        assert isinstance(store, S3Storage)
        store.ensure_bucket()  # the one-off start-up step of a deployment: instances only use it
        print(f"对象存储桶 {store.bucket} 已就绪。")
    return 0


def cmd_load_regions(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.db import session_scope
    from services.reference import regions

    with session_scope() as session:
        written = regions.load_regions(session, regions.read_regions_csv(Path(args.path)))
    print(f"地区数据更新 {written} 条。")
    return 0


def cmd_calendar_load(args: argparse.Namespace) -> int:
    """A year's working-day arrangement (CSV `date,kind,note`, kind holiday|workday): replaces
    that year's days, as `PUT /calendar/{year}` does."""
    from pathlib import Path

    from core.db import session_scope
    from domain.errors import DomainError, ValidationFailed
    from domain.vocabulary import CalendarDayKind
    from services.filings import calendar_years
    from services.reference import calendar as working_calendar

    try:
        text = Path(args.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"导入失败：无法读取文件（须为 UTF-8 编码的 CSV）：{error}", file=sys.stderr)
        return 2
    try:
        entries = working_calendar.parse_csv(text)
        year = entries[0].day.year
        with session_scope() as session:
            calendar_years.load_year(session, year, entries)
    except ValidationFailed as error:
        for problem in error.errors:
            print(f"导入失败：{problem.message}", file=sys.stderr)
        return 2
    except DomainError as error:
        print(f"导入失败：{error.message}", file=sys.stderr)
        return 2
    holidays = sum(entry.kind == CalendarDayKind.HOLIDAY for entry in entries)
    print(f"已导入 {year} 年工作日历：放假 {holidays} 天，调休上班 {len(entries) - holidays} 天。")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from core.db import session_scope
    from domain.errors import DomainError, from_pydantic
    from schemas.accounts import UserCreate
    from services.accounts import users as accounts

    try:
        # The same request model as POST /users: the same username and password rules.
        body = UserCreate.model_validate(
            {
                "username": args.username,
                "password": args.password,
                "role": args.role,
                "jurisdiction": args.jurisdiction,
                "display_name": args.display_name or args.username,
            }
        )
    except ValidationError as error:
        for problem in from_pydantic(error.errors()):
            print(f"创建失败：{problem.field}：{problem.message}", file=sys.stderr)
        return 2
    try:
        with session_scope() as session:
            user = accounts.create_user(session, **body.model_dump())
            print(f"已创建用户 {user.username}（{user.role}，辖区 {user.jurisdiction}）")
    except DomainError as error:
        print(f"创建失败：{error.message}", file=sys.stderr)
        return 2
    return 0


def _require_current_schema() -> bool:
    from core.db import get_engine
    from core.migrate import schema_is_current

    if not schema_is_current(get_engine()):
        print(
            "数据库结构不是最新版本，请先运行 `outlet-filing migrate`。\n"
            "The database schema is behind: run `outlet-filing migrate` first.",
            file=sys.stderr,
        )
        return False
    return True


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from cli import demo
    from core.db import session_scope

    if get_settings().environment == "production":
        print("生产环境不能写入演示数据（ENVIRONMENT=production）。", file=sys.stderr)
        return 2
    if not _require_current_schema():
        return 2
    with session_scope() as session:
        if not demo.database_is_empty(session):
            if not args.if_empty:
                print("数据库已有数据，未写入演示数据。", file=sys.stderr)
                return 2
            print("数据库已有数据，跳过演示数据。")
            _print_logins(None)
            return 0
        logins = demo.seed(session)
    _print_logins(logins)
    return 0


def cmd_seed_bulk(args: argparse.Namespace) -> int:
    """Synthetic outlets in bulk for benchmarks (`cli.bulk`); refuses a database with data."""
    from cli import bulk
    from core.db import get_engine

    if get_settings().environment == "production":
        print("生产环境不能写入批量测试数据（ENVIRONMENT=production）。", file=sys.stderr)
        return 2
    if not _require_current_schema():
        return 2
    try:
        report = bulk.seed_bulk(
            get_engine(),
            args.outlets,
            seed=args.seed,
            batch=args.batch,
            append=args.append,
            progress=print,
        )
    except bulk.DatabaseNotEmpty:
        if args.if_empty:
            print("数据库已有数据，跳过批量数据。")
            return 0
        print("数据库已有数据，未写入批量数据（--append 追加，--if-empty 跳过）。", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("应为正整数")
    return number


class _Login(Protocol):
    """A demo account as `cli.demo` reports it."""

    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def scope(self) -> str: ...


def _print_logins(logins: Sequence[_Login] | None) -> None:
    from cli.demo import DEMO_PASSWORD

    print(f"\n演示账号（密码均为 {DEMO_PASSWORD}）/ demo logins, password {DEMO_PASSWORD}:")
    if logins is None:
        print("  admin, reviewer, reviewer_451102, op_sf, … (see README)")
        return
    for login in logins:
        print(f"  {login.username:<18} {login.role:<28} {login.scope}")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    if not _require_current_schema():
        return 2
    # The notification worker runs in this process (one thread, whatever --workers says) unless
    # --no-worker: then run `outlet-filing worker` elsewhere. Several are fine (claims, locks).
    stop = None if args.no_worker else _start_worker_thread()
    # The app configures logging itself (LOG_LEVEL, LOG_FORMAT); uvicorn's loggers propagate to it.
    try:
        uvicorn.run(
            "api.main:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=True,
            log_config=None,
        )
    finally:
        if stop is not None:
            stop.set()
    return 0


def _start_worker_thread() -> threading.Event:
    from services.notifications import delivery

    stop = threading.Event()
    threading.Thread(
        target=delivery.run_forever, args=(stop,), name="notification-worker", daemon=True
    ).start()
    return stop


def cmd_worker(args: argparse.Namespace) -> int:
    """Delivers notifications and runs the daily jobs until interrupted (or once, --once)."""
    from services.notifications import delivery

    if not _require_current_schema():
        return 2
    if args.once:
        ran, report = delivery.run_round()
        print(
            f"每日任务：{', '.join(ran) or '无'}；展开通知 {report.expanded} 条；"
            f"已发送 {report.sent}，待重试 {report.retried}，失败 {report.failed}。"
        )
        return 0
    stop = threading.Event()
    try:
        delivery.run_forever(stop, interval=args.interval)
    except KeyboardInterrupt:
        stop.set()
    return 0


def _head_hash(value: str) -> str:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value.lower()):
        raise argparse.ArgumentTypeError("应为 64 位十六进制的哈希值（GET /public/audit-head）")
    return value.lower()


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from core.db import session_scope
    from services.oversight import audit

    with session_scope(for_write=False) as session:
        report = audit.verify(session, against=args.against)
    if report.verified:
        kept = f"，且包含此前保存的链头 {args.against}" if args.against else ""
        print(f"审计链完整：{report.entries} 条记录全部校验通过{kept}。")
        return 0
    if report.first_broken_id is None:  # every entry fits, but the kept head is gone
        print(
            f"审计链与此前保存的链头不符：链中已没有哈希为 {args.against} 的记录"
            "（历史可能被改写）。",
            file=sys.stderr,
        )
        return 1
    print(
        f"审计链断裂：第一处异常在记录 #{report.first_broken_id}（{report.reason}）。",
        file=sys.stderr,
    )
    return 1


def _sweep_minutes(value: str) -> int:
    minutes = int(value)
    if minutes < 10:
        raise argparse.ArgumentTypeError("至少 10 分钟：更新的文件可能属于正在进行的上传")
    return minutes


def cmd_sweep_files(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from core.db import session_scope
    from services.filings import documents

    if not _require_current_schema():
        return 2
    report = documents.sweep_files(session_scope, older_than=timedelta(minutes=args.older_than))
    print(
        f"已删除无记录引用的存储文件 {report.blobs} 个、遗留的临时上传文件 {report.temp_files} 个"
        f"（只处理 {args.older_than} 分钟以前的文件）。"
    )
    return 0


def cmd_storage_migrate(args: argparse.Namespace) -> int:
    from core.config import get_settings
    from core.storage import LocalStorage, S3Storage, copy_local_to_s3, s3_client

    settings = get_settings()
    if not settings.s3_bucket:
        print("请先设置 S3_BUCKET（以及 S3_ENDPOINT_URL、S3_REGION 和访问密钥）", file=sys.stderr)
        return 2
    target = S3Storage(s3_client(settings.s3_endpoint_url, settings.s3_region), settings.s3_bucket)
    target.ensure_bucket()
    report = copy_local_to_s3(LocalStorage(settings.upload_dir), target)
    print(
        f"已复制 {report.copied} 个文件（{report.bytes_copied} 字节），"
        f"{report.already_there} 个已在对象存储中；每个文件均已读回并核对 SHA-256。"
    )
    if report.refused:
        print(
            f"{len(report.refused)} 个本地文件的内容与其 SHA-256 文件名不符，未复制："
            + " ".join(report.refused),
            file=sys.stderr,
        )
        return 1
    print(f"现在可以设置 STORAGE_BACKEND=s3（存储桶 {settings.s3_bucket}）。")
    return 0


def _fetch_json(source: str) -> dict:
    """JSON from a URL or a file path."""
    import json
    from pathlib import Path

    if source.startswith(("http://", "https://")):
        import httpx

        response = httpx.get(source, timeout=15, follow_redirects=True)
        response.raise_for_status()
        return response.json()
    return json.loads(Path(source).read_text(encoding="utf-8"))


def cmd_verify_receipt(args: argparse.Namespace) -> int:
    """Verifies a receipt's signature offline against a JWKS (file or URL)."""
    import json

    from services.receipts import signing

    base = get_settings().public_base_url.rstrip("/")
    token = args.receipt
    if token.count(".") != 2:  # a receipt number: fetch its JWS from the public check
        token = _fetch_json(f"{base}/api/v1/public/receipts/{args.receipt}")["jws"]
    jwks = _fetch_json(args.jwks or f"{base}/.well-known/jwks.json")
    try:
        payload = signing.verify(token, jwks)
    except signing.InvalidSignature as error:
        print(f"签名无效 / signature INVALID: {error}", file=sys.stderr)
        return 1
    print("签名有效 / signature valid")
    print(json.dumps(payload, ensure_ascii=False, indent=2))
    print(f"当前状态请在线核验 / current status: {base}/verify/{payload['receipt_no']}")
    return 0


def cmd_verify_draw(args: argparse.Namespace) -> int:
    """Re-runs a published draw offline (no database) and compares it with what was published."""
    from domain import draw

    plan = _fetch_json(args.plan)
    try:
        report = draw.verify(plan)
    except (KeyError, TypeError, ValueError) as error:
        print(f"无法核验：公示数据不完整（{error}）", file=sys.stderr)
        return 2
    print(f"计划 / plan {plan.get('id')}: {plan.get('name')}")
    print(f"key string: {report.key_string}")
    for stratum in report.strata:
        mark = "ok" if stratum["matches"] else "MISMATCH"
        print(f"  stratum {stratum['label']}: {', '.join(stratum['selected']) or '-'}  [{mark}]")
    for team in report.teams:
        mark = "ok" if team["matches"] else "MISMATCH"
        print(f"  object {team['m']} {team['filing_no']}: team {', '.join(team['team'])}  [{mark}]")
    if report.verified:
        print("verified")
        return 0
    for problem in report.problems:
        print(f"problem: {problem}", file=sys.stderr)
    print("NOT verified", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="outlet-filing", description="快递末端网点备案服务")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="upgrade the database to the latest schema").set_defaults(
        func=cmd_migrate
    )
    load = commands.add_parser("load-regions", help="load a code,name,level,parent_code CSV file")
    load.add_argument("path")
    load.set_defaults(func=cmd_load_regions)

    calendar = commands.add_parser("calendar", help="the working-day calendar")
    calendar_commands = calendar.add_subparsers(dest="calendar_command", required=True)
    calendar_load = calendar_commands.add_parser(
        "load", help="load a year's date,kind,note CSV (kind holiday|workday); replaces the year"
    )
    calendar_load.add_argument("path", metavar="FILE")
    calendar_load.set_defaults(func=cmd_calendar_load)

    create = commands.add_parser("create-user", help="create a staff account")
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    staff_roles = [
        Role.REVIEWER,
        Role.INSPECTOR,
        Role.ADMIN,
    ]  # operators register (POST /enterprises)
    create.add_argument("--role", required=True, choices=[role.value for role in staff_roles])
    create.add_argument("--jurisdiction", default="451100")
    create.add_argument("--display-name")
    create.set_defaults(func=cmd_create_user)

    seed = commands.add_parser("seed-demo", help="load a believable Hezhou demo data set")
    seed.add_argument("--if-empty", action="store_true", help="do nothing if data exists")
    seed.set_defaults(func=cmd_seed_demo)

    bulk = commands.add_parser(
        "seed-bulk", help="load N synthetic filed outlets with their history (benchmarks)"
    )
    bulk.add_argument("--outlets", type=_positive, required=True, metavar="N")
    bulk.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    bulk.add_argument("--batch", type=_positive, default=10_000, help="outlets per transaction")
    data = bulk.add_mutually_exclusive_group()
    data.add_argument("--if-empty", action="store_true", help="do nothing if data exists")
    data.add_argument("--append", action="store_true", help="add to a database with data")
    bulk.set_defaults(func=cmd_seed_bulk)

    serve = commands.add_parser("serve", help="serve the API (refuses a schema that is behind)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--no-worker", action="store_true", help="do not deliver notifications in this process"
    )
    serve.set_defaults(func=cmd_serve)
    worker = commands.add_parser("worker", help="deliver notifications and run daily jobs")
    worker.add_argument("--once", action="store_true", help="one round, then exit")
    worker.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")
    worker.set_defaults(func=cmd_worker)
    verify = commands.add_parser("verify-receipt", help="check a receipt's signature offline")
    verify.add_argument("receipt", metavar="JWS_OR_RECEIPT_NO")
    verify.add_argument("--jwks", help="JWKS file or URL (default: PUBLIC_BASE_URL's)")
    verify.set_defaults(func=cmd_verify_receipt)

    verify_draw = commands.add_parser("verify-draw", help="re-run a published draw offline")
    verify_draw.add_argument("plan", metavar="PLAN_JSON_OR_URL")
    verify_draw.set_defaults(func=cmd_verify_draw)

    audit_verify = commands.add_parser("audit-verify", help="verify the audit hash chain")
    audit_verify.add_argument(
        "--against",
        type=_head_hash,
        default=None,
        metavar="HEAD_HASH",
        help="a head kept earlier (GET /public/audit-head): fail unless the chain still holds it",
    )
    audit_verify.set_defaults(func=cmd_audit_verify)
    sweep = commands.add_parser(
        "sweep-files", help="delete stored files no record references (older than an hour)"
    )
    sweep.add_argument(
        "--older-than",
        type=_sweep_minutes,
        default=60,
        metavar="MINUTES",
        help="minimum age in minutes, at least 10 (default 60): uploads in progress are younger",
    )
    sweep.set_defaults(func=cmd_sweep_files)
    storage_migrate = commands.add_parser(
        "storage-migrate",
        help="copy the local document store into the S3 bucket of S3_* and verify every hash",
    )
    storage_migrate.add_argument("--to", choices=["s3"], required=True)
    storage_migrate.set_defaults(func=cmd_storage_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as error:  # a missing or unsafe setting: one line, no traceback
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
