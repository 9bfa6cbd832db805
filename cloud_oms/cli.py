"""`kasir-oms`: run and administer the order management service.

    $ kasir-oms migrate
    $ kasir-oms add-store JKT1 "Toko Jakarta" --tz Asia/Jakarta \\
          --address "Jl. Sabang 12, Jakarta 10160" --npwp 01.234.567.8-901.000
    $ kasir-oms create-user owner@toko.id --role owner --password-file pw.txt
    $ kasir-oms add-terminal JKT1 "Kasir depan"            # prints a one-time enrolment code
    $ kasir-oms add-terminal JKT1 --replace T01            # re-enrol T01 on new hardware
    $ kasir-oms revoke-terminal JKT1 T01
    $ kasir-oms import-catalog products.csv --store JKT1
    $ kasir-oms add-channel shop --kind online --store JKT1
    $ kasir-oms create-api-key shop
    $ kasir-oms release add dist/kasir-0.2.0.bundle      # offered to tills running older ones
    $ kasir-oms release list
    $ kasir-oms release withdraw 0.2.0
    $ kasir-oms serve --host 0.0.0.0 --port 8000 --workers 4 --migrate
    $ kasir-oms worker

The database is `--database-url`, else `DATABASE_URL`, else `sqlite:///./kasir-oms.sqlite3`;
the OMS's files (release bundles) `--data-dir`, else `KASIR_OMS_DATA_DIR`, else the SQLite
database's directory.
Exit status: 0 done, 1 refused (the message names the field and the reason), 2 bad usage.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import os
import signal
import sys
import threading
from pathlib import Path

from .config import ConfigError, Settings


class CliError(Exception):
    pass


def _connect(args) -> Settings:
    from . import db as dbmod
    from . import migrations

    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    try:
        settings = Settings.from_env()
        database = dbmod.connect(settings.database_url)
    except (ConfigError, ValueError) as exc:
        raise CliError(str(exc)) from None
    if args.data_dir:
        settings = dataclasses.replace(settings, data_dir=args.data_dir)
    if args.command != "migrate" and not getattr(args, "migrate", False):
        version = migrations.current_version(database)
        if version < migrations.LATEST:
            raise CliError(
                f"database is at schema version {version}, this OMS needs "
                f"{migrations.LATEST}: run `kasir-oms migrate` first"
            )
    return settings


def _read_secret(path: str | None, prompt: str) -> str:
    if path:
        try:
            return Path(path).read_text().rstrip("\r\n")
        except OSError as exc:
            raise CliError(f"password file: {exc}") from None
    first = getpass.getpass(prompt)
    if getpass.getpass("again: ") != first:
        raise CliError("password: the two entries differ")
    return first


def cmd_migrate(args) -> None:
    from . import db as dbmod
    from . import migrations

    before = migrations.current_version(dbmod.db.obj)
    after = migrations.migrate(dbmod.db.obj, args.to or migrations.LATEST)
    print(f"schema version {before} -> {after}")


def cmd_serve(args) -> None:
    import uvicorn

    from . import db as dbmod
    from . import migrations

    if args.migrate:
        migrations.migrate(dbmod.db.obj)
    dbmod.disconnect()
    if args.data_dir:
        # The app's workers read their settings from the environment, as they do the database.
        os.environ["KASIR_OMS_DATA_DIR"] = args.data_dir
    uvicorn.run(
        "cloud_oms.api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=args.proxy_headers,
        log_level=args.log_level,
    )


def cmd_create_user(args) -> None:
    from .admin import create_user

    password = _read_secret(args.password_file, f"password for {args.email}: ")
    user = create_user(args.email, password, role=args.role, name=args.name, store=args.store)
    print(f"user {user.email} ({user.role}) created, id {user.id}")


def cmd_add_store(args) -> None:
    from .admin import add_store

    store = add_store(
        args.code,
        args.name,
        tz=args.tz,
        currency=args.currency,
        currency_exponent=args.exponent,
        locale=args.locale,
        prices_include_tax=not args.prices_exclude_tax,
        address=args.address,
        npwp=args.npwp,
    )
    print(f"store {store.code} ({store.name}) created, id {store.id}")


def cmd_add_terminal(args) -> None:
    from .admin import add_terminal

    terminal, code = add_terminal(
        args.store, args.name, replace=args.replace, expires_hours=args.expires_hours
    )
    verb = "re-enrolment" if args.replace else "enrolment"
    print(f"terminal {terminal.code} ({terminal.name}) of store {args.store}, id {terminal.id}")
    print(f"one-time {verb} code (valid {args.expires_hours} h): {code}")


def cmd_revoke_terminal(args) -> None:
    from .admin import revoke_terminal

    terminal = revoke_terminal(args.store, args.terminal)
    print(f"terminal {terminal.code} of store {args.store} revoked")


def cmd_import_catalog(args) -> None:
    from .admin import get_store
    from .catalog import import_csv

    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"file: {exc}") from None
    store = get_store(args.store) if args.store else None
    result = import_csv(text, store=store, actor="cli:import-catalog", dry_run=args.dry_run)
    if result.errors:
        for error in result.errors:
            print(f"{args.file}: {error}", file=sys.stderr)
        raise CliError(f"{len(result.errors)} problem(s); nothing was imported")
    if args.dry_run:
        print(f"{args.file}: every row is valid (dry run, nothing imported)")
        return
    print(
        f"{result.created} product(s) created, {result.updated} updated, "
        f"stock set for {result.stock_set}"
    )


def cmd_add_channel(args) -> None:
    from .admin import add_channel

    secret = (
        _read_secret(args.webhook_secret_file, "webhook secret: ")
        if args.kind == "woocommerce"
        else None
    )
    channel = add_channel(
        args.code,
        name=args.name,
        kind=args.kind,
        store=args.store,
        webhook_secret=secret,
        stock_policy=args.stock_policy,
    )
    print(f"channel {channel.code} ({channel.kind}) created, id {channel.id}")


def cmd_create_api_key(args) -> None:
    from .admin import create_api_key

    key, secret = create_api_key(args.channel)
    print(f"API key {key.prefix}… for channel {args.channel} (shown once, store it safely):")
    print(secret)


def _files_dir(args) -> Path:
    try:
        return args.settings.files_dir()
    except ConfigError as exc:
        raise CliError(f"{exc} (or pass --data-dir)") from None


def cmd_release(args) -> None:
    from . import releases

    if args.release_cmd == "add":
        release = releases.add(Path(args.bundle), _files_dir(args))
        print(
            f"release {release.version} stored as {release.filename} ({release.size} bytes, "
            f"sha256 {release.sha256}); offered to tills running an older version"
        )
    elif args.release_cmd == "withdraw":
        release = releases.withdraw(args.version)
        print(f"release {release.version} withdrawn: no longer offered or served to tills")
    else:
        rows = releases.listing()
        if not rows:
            print("no releases stored")
        offered = next((r for r in rows if r.active), None)
        for r in rows:
            state = "offered" if r is offered else ("active" if r.active else "withdrawn")
            print(
                f"{r.version}\t{state}\t{r.size}\t{r.sha256}\t{r.added_at:%Y-%m-%d %H:%M}"
                f"\t{r.filename}"
            )


def cmd_worker(args) -> None:
    from . import notifications

    settings = Settings.from_env()
    if args.once:
        tried = notifications.run_once(settings)
        print(f"{tried} notification(s) tried")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    notifications.run_worker(stop, settings=settings, poll_interval=args.poll)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kasir-oms", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="overrides DATABASE_URL")
    parser.add_argument("--data-dir", help="overrides KASIR_OMS_DATA_DIR (release bundles)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the web service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--migrate", action="store_true", help="apply migrations first")
    p.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-For")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="bring the database schema up to date")
    p.add_argument("--to", type=int, help="stop at this version")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("create-user", help="add an owner or staff account")
    p.add_argument("email")
    p.add_argument("--role", choices=("owner", "staff"), required=True)
    p.add_argument("--name", default="")
    p.add_argument("--store", help="home store code (staff)")
    p.add_argument("--password-file", help="read the password from this file")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("add-store", help="add a store")
    p.add_argument("code")
    p.add_argument("name")
    p.add_argument("--tz", default="Asia/Jakarta", help="IANA zone or WIB/WITA/WIT")
    p.add_argument("--currency", default="IDR")
    p.add_argument("--exponent", type=int, default=0, help="decimals of the currency")
    p.add_argument("--locale", default="id_ID", choices=("id_ID", "en"))
    p.add_argument("--prices-exclude-tax", action="store_true")
    p.add_argument("--address", default="", help="postal address, printed on invoices")
    p.add_argument("--npwp", default="", help="tax number (15 or 16 digits), on invoices")
    p.set_defaults(func=cmd_add_store)

    p = sub.add_parser("add-terminal", help="add a till; prints its one-time enrolment code")
    p.add_argument("store")
    p.add_argument("name", nargs="?", default="", help="optional with --replace")
    p.add_argument("--replace", metavar="TERMINAL", help="re-enrol this terminal (code or id)")
    p.add_argument("--expires-hours", type=int, default=24)
    p.set_defaults(func=cmd_add_terminal)

    p = sub.add_parser("revoke-terminal", help="refuse a till's token from now on")
    p.add_argument("store")
    p.add_argument("terminal", help="terminal code (T01) or id")
    p.set_defaults(func=cmd_revoke_terminal)

    p = sub.add_parser("import-catalog", help="import the catalog CSV (the till's format)")
    p.add_argument("file")
    p.add_argument("--store", help="store whose stock a 'stock' column counts")
    p.add_argument("--dry-run", action="store_true", help="check every row, import nothing")
    p.set_defaults(func=cmd_import_catalog)

    p = sub.add_parser("add-channel", help="add an order channel (online shop, WooCommerce, phone)")
    p.add_argument("code")
    p.add_argument("--name", default="")
    p.add_argument("--kind", choices=("online", "woocommerce", "phone"), default="online")
    p.add_argument("--store", help="the store that fulfils its orders")
    p.add_argument("--webhook-secret-file", help="WooCommerce webhook secret (asked if absent)")
    p.add_argument("--stock-policy", choices=("refuse", "backorder"), default="refuse")
    p.set_defaults(func=cmd_add_channel)

    p = sub.add_parser("create-api-key", help="a new API key for a channel (shown once)")
    p.add_argument("channel")
    p.set_defaults(func=cmd_create_api_key)

    p = sub.add_parser("release", help="till releases offered to the tills")
    rsub = p.add_subparsers(dest="release_cmd", required=True, metavar="ACTION")
    r = rsub.add_parser("add", help="store a signed bundle (image/make_bundle.py) and offer it")
    r.add_argument("bundle", help="the .bundle file")
    rsub.add_parser("list", help="stored releases, newest first")
    r = rsub.add_parser("withdraw", help="stop offering and serving a release")
    r.add_argument("version")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("worker", help="deliver customer notifications")
    p.add_argument("--once", action="store_true", help="one batch, then exit")
    p.add_argument("--poll", type=float, default=1.0, help="seconds between idle polls")
    p.set_defaults(func=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .admin import AdminError
    from .catalog import CatalogError
    from .releases import ReleaseError

    args = build_parser().parse_args(argv)
    try:
        args.settings = _connect(args)
        args.func(args)
    except (CliError, AdminError, CatalogError, ReleaseError) as exc:
        print(f"kasir-oms {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        from . import db as dbmod

        if dbmod.db.obj is not None:
            dbmod.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
