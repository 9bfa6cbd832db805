"""The till's HTTP client for the OMS: the tills' API from `retail.schema` and
`retail.catalog_wire`, over HTTPS with certificate checks.

    >>> client = OmsClient("https://oms.tokomaju.id", token=token)      # doctest: +SKIP
    >>> client.post_events([raw_event_bytes]).results[0].outcome       # doctest: +SKIP
    'accepted'

Plain HTTP is refused except to this machine (loopback) or, when the config explicitly allows
it, to a private LAN address: a till's token and its sales must not cross the internet in the
clear. Failures come in three kinds a caller can act on: `OmsUnavailable` (network, timeout,
5xx: try again later), `OmsUnauthorized` (token revoked or unknown: stop and tell the owner)
and `OmsRefused` (4xx: the request itself was wrong; the message is the OMS's reason).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
from pathlib import Path
from urllib.parse import quote, urlsplit

import requests
from pydantic import ValidationError

from retail.catalog_wire import CatalogPage, MergeResult, TillCatalog
from retail.schema import (
    EnrolRequest,
    EnrolResponse,
    EventBatch,
    EventBatchResult,
    Heartbeat,
    ReleaseOffer,
    StoreSale,
)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


class OmsError(RuntimeError):
    pass


class OmsConfigError(OmsError):
    """The OMS address itself is not acceptable (scheme, host)."""


class OmsUnavailable(OmsError):
    """Could not get an answer: network down, timeout, connection reset, server error."""


class OmsTimeout(OmsUnavailable):
    """The request went out but no answer came in time: the OMS may still have done the work."""


class OmsUnauthorized(OmsError):
    """The OMS does not accept this till's token (revoked, or the till was replaced)."""


class OmsRefused(OmsError):
    """The OMS understood the request and said no; the message is its reason."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"OMS refused ({status}): {detail}")
        self.status = status
        self.detail = detail


class OmsBadDownload(OmsUnavailable):
    """A download arrived but is not what the OMS announced (size or sha256): nothing of it is
    kept, and it is worth trying again (a proxy may have spoilt it)."""


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_private(host: str) -> bool:
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            addresses = {
                ipaddress.ip_address(info[4][0])
                for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            }
        except OSError:
            return False
    return bool(addresses) and all(
        a.is_private or a.is_link_local or a.is_loopback for a in addresses
    )


def check_url(url: str, *, allow_http: bool = False) -> str:
    """The OMS base URL without a trailing slash, or OmsConfigError saying why not."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise OmsConfigError(f"OMS address {url!r} should look like https://oms.example.id")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        if not allow_http:
            raise OmsConfigError(
                f"{url}: plain HTTP is only allowed to this machine; use https://, or set "
                "oms.allow_http = true for an OMS on the shop's own network"
            )
        if not _is_private(parts.hostname):
            raise OmsConfigError(
                f"{url}: plain HTTP is only allowed to a private LAN address, and "
                f"{parts.hostname} is not one; use https://"
            )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class OmsClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        ca_file: str | None = None,
        allow_http: bool = False,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        user_agent: str = "kasir-till",
    ):
        self.base_url = check_url(base_url, allow_http=allow_http)
        self.timeout = timeout
        self.session = requests.Session()
        self.session.verify = ca_file or True
        self.session.headers["User-Agent"] = user_agent
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> OmsClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
        except requests.exceptions.SSLError as exc:
            raise OmsUnavailable(
                f"{self.base_url}: the OMS certificate could not be verified ({exc.__class__.__name__}); "
                "check the address, or set oms.ca_file for a self-hosted OMS"
            ) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise OmsTimeout(f"{self.base_url}: no answer in time") from exc
        except requests.exceptions.Timeout as exc:
            raise OmsUnavailable(f"{self.base_url}: no answer in time") from exc
        except requests.exceptions.RequestException as exc:
            raise OmsUnavailable(
                f"{self.base_url}: cannot reach the OMS ({exc.__class__.__name__})"
            ) from exc
        if response.status_code == 401:
            raise OmsUnauthorized(
                "the OMS does not accept this till's token (revoked or replaced): enrol again"
            )
        if response.status_code >= 500:
            raise OmsUnavailable(f"{self.base_url}: OMS error {response.status_code}")
        if response.status_code >= 400:
            raise OmsRefused(response.status_code, _detail(response))
        return response

    @staticmethod
    def _json(response: requests.Response):
        try:
            return response.json()
        except ValueError as exc:
            # A proxy that cut the body short: the answer is lost, so try again.
            raise OmsUnavailable("the OMS answer was cut short or is not JSON") from exc

    # -- the tills' API ------------------------------------------------------------------------

    def enrol(self, code: str, name: str) -> EnrolResponse:
        body = EnrolRequest(code=code.strip(), name=name).model_dump()
        return EnrolResponse.model_validate(
            self._json(self._request("POST", "/api/v1/terminals/enrol", json=body))
        )

    def merge_catalog(self, catalog: TillCatalog) -> MergeResult:
        response = self._request(
            "POST",
            "/api/v1/sync/catalog",
            data=catalog.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        return MergeResult.model_validate(self._json(response))

    def pull_catalog(self, since: str | None, limit: int = 500) -> CatalogPage:
        params = {"limit": limit}
        if since:
            params["since"] = since
        response = self._request("GET", "/api/v1/sync/catalog", params=params)
        return CatalogPage.model_validate(self._json(response))

    def post_events(self, events: list[bytes]) -> EventBatchResult:
        """Send stored events exactly as stored: each travels as a JSON string of its bytes."""
        body = EventBatch(events=[raw.decode("utf-8") for raw in events]).model_dump_json()
        response = self._request(
            "POST",
            "/api/v1/sync/events",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        return EventBatchResult.model_validate(self._json(response))

    def heartbeat(self, beat: Heartbeat) -> dict:
        response = self._request(
            "POST",
            "/api/v1/sync/heartbeat",
            data=beat.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        return self._json(response)

    def download_release(self, offer: ReleaseOffer, target: Path) -> Path:
        """Fetch the bundle `offer` names into `target`, streamed, and check its size and
        sha256 against the offer; on any failure the partial file is deleted and the error
        raised (`OmsBadDownload` for a mismatch). `target` is fsynced before this returns."""
        digest, size = hashlib.sha256(), 0
        response = self._request("GET", offer.url, stream=True)
        try:
            with response, open(target, "wb") as out:
                for chunk in response.iter_content(1 << 16):
                    size += len(chunk)
                    if size > offer.size:
                        raise OmsBadDownload(
                            f"release {offer.version}: the download is larger than the "
                            f"{offer.size} bytes the OMS announced"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size != offer.size:
                raise OmsBadDownload(
                    f"release {offer.version}: downloaded {size} bytes, the OMS announced "
                    f"{offer.size}"
                )
            if digest.hexdigest() != offer.sha256:
                raise OmsBadDownload(
                    f"release {offer.version}: sha256 mismatch: the download has "
                    f"{digest.hexdigest()[:16]}..., the OMS announced {offer.sha256[:16]}..."
                )
        except BaseException as exc:
            target.unlink(missing_ok=True)
            if isinstance(exc, requests.exceptions.RequestException):
                raise OmsUnavailable(
                    f"release {offer.version}: the download broke off after {size} bytes "
                    f"({exc.__class__.__name__})"
                ) from exc
            raise
        return target

    def pickup_orders(self) -> list[dict]:
        return self._json(self._request("GET", "/api/v1/sync/orders"))["orders"]

    def past_sale(self, receipt_no: str) -> StoreSale | None:
        """A sale of any till of the store with the refunds booked against it; None when the
        OMS does not know that receipt."""
        try:
            response = self._request("GET", f"/api/v1/sync/receipts/{quote(receipt_no, safe='')}")
        except OmsRefused as exc:
            if exc.status == 404:
                return None
            raise
        try:
            return StoreSale.model_validate(self._json(response))
        except ValidationError as exc:
            raise OmsError(
                f"the OMS answered receipt {receipt_no} with a sale this till cannot read: {exc.errors()[0]['msg']}"
            ) from None


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason
    detail = body.get("detail") if isinstance(body, dict) else body
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(x) for x in item.get("loc", []) if x != "body")
                parts.append(f"{loc}: {item.get('msg')}" if loc else str(item.get("msg")))
        return "; ".join(parts) or str(detail)
    return str(detail)
