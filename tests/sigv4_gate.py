"""An AWS-style SigV4 check in front of the test bed's catalog (the `gate` of tests/catalog_proxy.py),
as API Gateway, Glue or S3 Tables make one: each request's signature is computed again by botocore
(AWS's Python implementation, independent of the Rust signer floe uses) from the secret of the
access key the request names; a request whose signature, region, service and time match is
forwarded with the catalog's own bearer token, any other is refused with 403 and the reason kept.

    gate = SigV4Gate({"AKIA...": "secret"}, "eu-west-1", "execute-api", testbed.token)
    with CatalogProxy(testbed.catalog_uri, gate=gate) as proxy: ...
"""

from __future__ import annotations

import datetime
import hmac
import re
import threading
from collections.abc import Callable
from email.message import Message

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
#: How far a request's X-Amz-Date may be from now, as AWS allows.
SKEW = datetime.timedelta(minutes=5)


class SigV4Gate:
    def __init__(self, keys: dict[str, str], region: str, service: str, upstream_token: Callable[[], str]) -> None:
        self.keys = keys
        self.region = region
        self.service = service
        self.upstream_token = upstream_token
        self._token: str | None = None
        self._lock = threading.Lock()
        #: The access key of every request let through, and the reason of every refusal.
        self.accepted: list[str] = []
        self.refused: list[str] = []

    def __call__(self, method: str, url: str, headers: Message, body: bytes) -> str | None:
        key, reason = self.check(method, url, headers, body)
        with self._lock:
            if reason:
                self.refused.append(reason)
                return None
            self.accepted.append(key)
            if self._token is None:
                self._token = self.upstream_token()
            return f"Bearer {self._token}"

    def check(self, method: str, url: str, headers: Message, body: bytes) -> tuple[str, str | None]:
        match = AUTHORIZATION.match(headers.get("Authorization") or "")
        if not match:
            return "", "no SigV4 Authorization header"
        key = match["key"]
        if key not in self.keys:
            return key, f"unknown access key {key}"
        if (match["region"], match["service"]) != (self.region, self.service):
            return key, f"signed for {match['region']}/{match['service']}, not {self.region}/{self.service}"
        amz_date = headers.get("X-Amz-Date") or ""
        try:
            signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            return key, f"bad X-Amz-Date {amz_date!r}"
        if abs(datetime.datetime.now(datetime.timezone.utc) - signed_at) > SKEW or not amz_date.startswith(match["date"]):
            return key, f"X-Amz-Date {amz_date} is not now"
        signed = match["signed"].split(";")
        if "host" not in signed or "x-amz-date" not in signed:
            return key, f"host and x-amz-date must be signed, not only {signed}"
        # The request as the signer saw it: exactly the headers it says it signed.
        request = AWSRequest(method=method, url=url, data=body, headers={name: headers[name] for name in signed if headers.get(name) is not None})
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(key, self.keys[key], headers.get("X-Amz-Security-Token")), self.service, self.region)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not hmac.compare_digest(expected, match["signature"]):
            return key, "signature does not match"
        return key, None
