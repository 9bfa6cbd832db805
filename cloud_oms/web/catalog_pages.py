"""Catalog pages: products with prices, taxes, categories and barcodes; CSV import with a
progress bar and a per-row error report.

    GET  /catalog?q=kopi&category=<id>        products (everyone signed in)
    GET  /catalog/products/new | /catalog/products/{id}
    POST /catalog/products/new | /catalog/products/{id}          (owner)
    GET  /catalog/taxes, /catalog/categories; POST the same      (owner)
    GET  /catalog/import; POST /catalog/import (a CSV file)      (owner)
    GET  /catalog/import/{job}; POST /catalog/import/{job}/step  (owner)

Writes go through `cloud_oms.catalog`, so every change reaches the tills' catalog pull. The
import first checks the whole file and lists every problem with its line and column without
writing anything; a clean file is then imported in chunks, each chunk one transaction (see
`services.import_step`), while the page's script moves the bar.
"""

from __future__ import annotations

import math
import re

from fastapi import Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from peewee import JOIN, fn

from .. import catalog
from .. import db as dbmod
from ..models.core import Barcode, Category, Product, Store, TaxCode, User
from . import core, services
from .core import WebError, owner, render, signed_in

router = core.web_router()

UUID = r"^[0-9a-fA-F-]{36}$"
PAGE_SIZE = 50
MAX_UPLOAD = 20 * 1024 * 1024
ROW_ERROR = re.compile(r"^line (\d+)(?:, ([a-z_]+))?: (.*)$", re.S)


def _currency():
    store = Store.select().order_by(Store.code).first()
    return core.currency_of(store), (store.locale if store else "id_ID")


@router.get("/catalog")
def products(
    request: Request,
    q: str = Query("", max_length=100),
    category: str = Query("", max_length=36),
    inactive: bool = False,
    page: int = Query(1, ge=1, le=100_000),
    user: User = Depends(signed_in),
):
    params = {"q": q, "category": category, "inactive": "1" if inactive else ""}
    with dbmod.session():
        query = Product.select(Product, Category).join(
            Category, JOIN.LEFT_OUTER, on=(Product.category == Category.id)
        )
        if not inactive:
            query = query.where(Product.active)
        if q.strip():
            by_barcode = Barcode.select(Barcode.product).where(Barcode.code == q.strip())
            query = query.where(
                Product.name.contains(q.strip())
                | Product.sku.contains(q.strip())
                | Product.id.in_(by_barcode)
            )
        if category:
            query = query.where(Product.category == category)
        total = query.count()
        pages = max(1, math.ceil(total / PAGE_SIZE))
        rows = list(
            query.order_by(Product.name).limit(PAGE_SIZE).offset((min(page, pages) - 1) * PAGE_SIZE)
        )
        barcodes: dict[str, list[str]] = {}
        for b in Barcode.select().where(Barcode.product.in_([p.id for p in rows])):
            barcodes.setdefault(b.product_id, []).append(
                b.code + (f" ×{b.pack_qty}" if b.pack_qty != 1 else "")
            )
        categories = list(Category.select().order_by(Category.sort, Category.name))
        currency, _ = _currency()
    return render(
        request,
        "catalog/products.html",
        title="Catalog",
        rows=rows,
        barcodes=barcodes,
        total=total,
        page=min(page, pages),
        pages=pages,
        params=params,
        qs=lambda **kw: core.query_string(params, **kw),
        categories=categories,
        currency=currency,
    )


def _product_form(request, *, product=None, values=None, error=None, status=200):
    with dbmod.session():
        taxes = list(TaxCode.select().where(TaxCode.active).order_by(TaxCode.code))
        categories = list(Category.select().order_by(Category.sort, Category.name))
        currency, _ = _currency()
        if values is None:
            if product is not None:
                codes = Barcode.select().where(Barcode.product == product.id).order_by(Barcode.code)
                category = Category.get_or_none(Category.id == product.category_id)
                values = {
                    "sku": product.sku,
                    "name": product.name,
                    "price": core.fmt_number(product.price)
                    if currency.exponent == 0
                    else str(product.price / currency.unit),
                    "tax_code": product.tax_code_id,
                    "category": category.name if category else "",
                    "unit": product.unit,
                    "plu": product.plu or "",
                    "active": product.active,
                    "barcodes": "\n".join(
                        b.code + (f"*{b.pack_qty}" if b.pack_qty != 1 else "") for b in codes
                    ),
                }
            else:
                values = {"tax_code": "PPN", "unit": "each", "active": True}
    return render(
        request,
        "catalog/product.html",
        status=status,
        title=f"Product {product.sku}" if product else "New product",
        product=product,
        values=values,
        taxes=taxes,
        categories=categories,
        error=error,
        currency=currency,
    )


@router.get("/catalog/products/new")
def new_product(request: Request, user: User = Depends(owner)):
    return _product_form(request)


@router.get("/catalog/products/{product_id}")
def edit_product(
    request: Request, product_id: str = Path(pattern=UUID), user: User = Depends(signed_in)
):
    with dbmod.session():
        product = Product.get_or_none(Product.id == product_id)
    if product is None:
        raise core.NotFound(f"product {product_id} not found")
    return _product_form(request, product=product)


def _barcodes(text: str) -> list[tuple[str, int]]:
    out = []
    for i, raw in enumerate(line.strip() for line in text.splitlines()):
        if not raw:
            continue
        code, _, qty = raw.partition("*")
        pack = core.parse_int(qty, f"barcodes line {i + 1}", minimum=1, maximum=9999) if qty else 1
        out.append((code.strip(), pack))
    return out


@router.post("/catalog/products/{product_id}")
def save_product(
    request: Request,
    product_id: str = Path(pattern=r"^(new|[0-9a-fA-F-]{36})$"),
    sku: str = Form("", max_length=64),
    name: str = Form("", max_length=200),
    price: str = Form("", max_length=30),
    tax_code: str = Form("", max_length=16),
    category: str = Form("", max_length=120),
    unit: str = Form("each", max_length=4),
    plu: str = Form("", max_length=8),
    active: str = Form(""),
    barcodes: str = Form("", max_length=5000),
    user: User = Depends(owner),
):
    values = {
        "sku": sku.strip(),
        "name": name.strip(),
        "price": price,
        "tax_code": tax_code,
        "category": category.strip(),
        "unit": unit,
        "plu": plu.strip(),
        "active": bool(active),
        "barcodes": barcodes,
    }
    product = None
    try:
        with dbmod.session():
            if product_id != "new":
                product = Product.get_or_none(Product.id == product_id)
                if product is None:
                    raise core.NotFound(f"product {product_id} not found")
                if values["sku"] != product.sku:
                    raise WebError(
                        "sku: a product's sku cannot change (tills match by it)", status=422
                    )
            elif Product.get_or_none(Product.sku == values["sku"]) is not None:
                raise WebError(f"sku: a product {values['sku']} exists already", status=422)
            if not values["name"]:
                raise WebError("name: a product needs a name", status=422)
            currency, locale = _currency()
            from retail.money import MoneyError, parse_money

            try:
                minor = parse_money(price, currency, locale)
            except MoneyError as exc:
                raise WebError(f"price: {exc}", status=422) from None
            saved = catalog.save_product(
                sku=values["sku"],
                name=values["name"],
                price=minor,
                tax_code=tax_code,
                category=values["category"] or None,
                unit=unit,
                plu=values["plu"] or None,
                active=values["active"],
                barcodes=_barcodes(barcodes),
            )
    except catalog.CatalogError as exc:
        return _product_form(request, product=product, values=values, error=str(exc), status=422)
    except WebError as exc:
        if isinstance(exc, core.NotFound):
            raise
        return _product_form(
            request, product=product, values=values, error=exc.message, status=exc.status
        )
    return core.redirect(request, f"/catalog/products/{saved.id}", f"Saved {saved.sku}.")


# --- taxes and categories ---------------------------------------------------------------------


@router.get("/catalog/taxes")
def taxes(request: Request, user: User = Depends(signed_in)):
    with dbmod.session():
        rows = list(TaxCode.select().order_by(TaxCode.code))
        used = dict(
            Product.select(Product.tax_code, fn.COUNT(Product.id))
            .group_by(Product.tax_code)
            .tuples()
        )
    return render(request, "catalog/taxes.html", title="Tax codes", rows=rows, used=used)


@router.post("/catalog/taxes")
def save_tax(
    request: Request,
    code: str = Form("", max_length=16),
    name: str = Form("", max_length=120),
    rate: str = Form("", max_length=10),
    base_num: str = Form("1", max_length=4),
    base_den: str = Form("1", max_length=4),
    active: str = Form(""),
    user: User = Depends(owner),
):
    try:
        percent = float(rate.replace(",", "."))
    except ValueError:
        raise WebError(f"rate: {rate!r} is not a percentage", status=422) from None
    rate_bp = round(percent * 100)
    num = core.parse_int(base_num, "base_num", minimum=1, maximum=1000)
    den = core.parse_int(base_den, "base_den", minimum=1, maximum=1000)
    with dbmod.session():
        try:
            catalog.save_tax_code(
                code.strip().upper(), name.strip(), rate_bp, num, den, bool(active)
            )
        except catalog.CatalogError as exc:
            raise WebError(str(exc), status=422) from None
    return core.redirect(request, "/catalog/taxes", f"Tax code {code.strip().upper()} saved.")


@router.get("/catalog/categories")
def categories(request: Request, user: User = Depends(signed_in)):
    with dbmod.session():
        rows = list(Category.select().order_by(Category.sort, Category.name))
        counts = dict(
            Product.select(Product.category, fn.COUNT(Product.id))
            .where(Product.category.is_null(False))
            .group_by(Product.category)
            .tuples()
        )
    return render(request, "catalog/categories.html", title="Categories", rows=rows, counts=counts)


@router.post("/catalog/categories")
def save_category(
    request: Request,
    name: str = Form("", max_length=120),
    sort: str = Form("0", max_length=6),
    user: User = Depends(owner),
):
    order = core.parse_int(sort or "0", "sort", minimum=-9999, maximum=9999)
    with dbmod.session():
        try:
            saved = catalog.save_category(name, order)
        except catalog.CatalogError as exc:
            raise WebError(str(exc), status=422) from None
    return core.redirect(request, "/catalog/categories", f"Category {saved.name} saved.")


# --- CSV import -------------------------------------------------------------------------------


def split_error(text: str) -> dict:
    m = ROW_ERROR.match(text)
    if not m:
        return {"line": "", "column": "", "reason": text}
    return {"line": int(m.group(1)), "column": m.group(2) or "", "reason": m.group(3)}


@router.get("/catalog/import")
def import_form(request: Request, user: User = Depends(owner)):
    with dbmod.session():
        stores = list(Store.select().order_by(Store.code))
    return render(
        request, "catalog/import.html", title="Import catalog", stores=stores, errors=None
    )


@router.post("/catalog/import")
async def upload(
    request: Request,
    file: UploadFile = File(...),
    store: str = Form("", max_length=16),
    user: User = Depends(owner),
):
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise WebError(f"file: larger than {MAX_UPLOAD // (1024 * 1024)} MB", status=413)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")  # what Excel on Windows saves as "CSV"
        except UnicodeDecodeError:
            raise WebError("file: not UTF-8 or Windows-1252 text", status=422) from None
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_start, request, user, text, store, file.filename or "")


def _start(request, user, text, store_code, filename):
    with dbmod.session():
        stores = list(Store.select().order_by(Store.code))
        store = next((s for s in stores if s.code == store_code), None)
        if store_code and store is None:
            raise WebError(f"store: no store {store_code!r}", status=422)
        errors = services.check_import(text, store)
        if errors:
            return render(
                request,
                "catalog/import.html",
                status=422,
                title="Import catalog",
                stores=stores,
                errors=[split_error(e) for e in errors],
                filename=filename,
            )
        job = services.start_import(text, store, core.actor(user))
    return core.redirect(request, f"/catalog/import/{job['id']}")


@router.get("/catalog/import/{job_id}")
def import_progress(
    request: Request, job_id: str = Path(pattern=UUID), user: User = Depends(owner)
):
    with dbmod.session():
        job = services.import_job(job_id)
    if job is None:
        raise core.NotFound(f"import {job_id} not found")
    job.pop("text", None)
    return render(
        request,
        "catalog/import_job.html",
        title="Importing catalog",
        job=job,
        errors=[split_error(e) for e in job["errors"]],
    )


@router.post("/catalog/import/{job_id}/step")
def import_step(request: Request, job_id: str = Path(pattern=UUID), user: User = Depends(owner)):
    with dbmod.session():
        try:
            job = services.import_step(job_id)
        except services.ServiceError as exc:
            raise core.NotFound(str(exc)) from None
    job.pop("text", None)
    job.pop("starts", None)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(job, headers={"Cache-Control": "no-store"})
    return core.redirect(request, f"/catalog/import/{job_id}")
