"""Settings of the intake service (environment variables prefixed `INTAKE_`)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from intake_service.area.service import DEFAULT_AREA_FILE
from intake_service.mail.sender import FolderMailer, Mailer, SmtpMailer
from shared.operators import ConfiguredKey
from shared.settings import DEV_SECRETS, ServiceSettings, secrets_of

OWASP_LEAST_ARGON2_WORK_KIB = 7 * 1024 * 5
"""The least of OWASP's Argon2id settings (Password Storage Cheat Sheet: 46 MiB and 1 pass,
19 MiB and 2, 12 MiB and 3, 9 MiB and 4, 7 MiB and 5), as memory times passes: 35 MiB."""

_S3_PREFIX = re.compile(r"(?!.*\.\.)[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
"""Folder names in a bucket, as photo keys are made of (no `..`, no empty folder)."""


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="INTAKE_", env_file=".env", extra="ignore", populate_by_name=True
    )
    database_file = "intake.db"

    port: int = 8000
    photo_dir: Path | None = Field(
        default=None, description="Default `<data_dir>/photos`."
    )
    photo_max_bytes: int = Field(
        default=15 * 1024 * 1024,
        ge=1,
        description="Largest photo file accepted (bytes); a bigger one is refused with 413 "
        "while it is still being sent.",
    )
    photo_request_max_bytes: int = Field(
        default=40 * 1024 * 1024,
        ge=1,
        description="Largest whole report with photos (bytes, multipart included).",
    )
    photo_max_count: int = Field(
        default=3, ge=0, le=10, description="Photos per report."
    )
    photo_max_megapixels: int = Field(
        default=40,
        ge=1,
        # Pillow's own backstop refuses more than 50 MP before this check could allow it.
        le=50,
        description="Largest photo by pixel count; bigger ones (and decompression bombs) "
        "are refused before they are decoded.",
    )
    photo_max_side: int = Field(
        default=2048,
        ge=320,
        description="Stored photos are scaled down to this many pixels on the longer side.",
    )
    photo_thumb_side: int = Field(
        default=320, ge=64, description="Longer side of thumbnails (pixels)."
    )
    photo_workers: int | None = Field(
        default=None,
        ge=1,
        description="Worker processes decoding photos, so photos decoded at once (the "
        "pixels decoded at once are bounded by `photo_max_megapixels` besides); default: "
        "the number of CPUs.",
    )
    photo_worker_idle_seconds: float = Field(
        default=30.0,
        gt=0,
        description="The photo workers stop after this long without a photo, giving "
        "their memory back; the next photo starts them again (a few tenths of a second).",
    )
    photo_timeout_seconds: int = Field(
        default=60,
        ge=1,
        description="A photo still being decoded after this long is refused as damaged "
        "(its worker process is ended).",
    )
    photo_blur_faces: bool = Field(
        default=True,
        description="Faces in photos are found and blurred before a photo is stored, so "
        "that no stored, public or CRM copy shows them (number plates are not: see the "
        "README). Off only for a city whose CRM must have photos as taken: residents' "
        "photos are then published with the faces of passers-by in them.",
    )
    photo_face_threshold: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="How sure the face detector must be (0 to 1) to blur what it found: "
        "lower blurs more faces, and more things that only look like one; higher misses "
        "more faces.",
    )
    photo_keep_originals: bool = Field(
        default=False,
        description="With blurring on, also keep each photo as it was before its faces "
        "were blurred (upright, without metadata, at the stored size) in the photo store, "
        "readable by operators with a `read` key only (`GET /v1/operator/photos/{id}/"
        "original`) and deleted with the photo. Off: unblurred faces are never stored.",
    )
    photo_store: Literal["local", "s3"] = Field(
        default="local",
        description="Where photos are kept: `local` (the folder `photo_dir`) or `s3` (an "
        "S3-compatible object store shared by every intake host: AWS S3, MinIO, Ceph).",
    )
    s3_bucket: str = Field(
        default="", description="The bucket of the photos; required with `s3`."
    )
    s3_prefix: str = Field(
        default="",
        description="Folder in the bucket the photos' keys start with (empty: the top).",
    )
    s3_endpoint_url: str = Field(
        default="",
        description="The store's URL, e.g. `http://minio:9000`; empty for AWS S3.",
    )
    s3_region: str = Field(default="us-east-1")
    s3_access_key_id: str = Field(
        default="",
        description="With INTAKE_S3_SECRET_ACCESS_KEY; both empty: botocore's own credential "
        "chain (AWS_* variables, ~/.aws, an instance or pod role).",
    )
    s3_secret_access_key: SecretStr = Field(default=SecretStr(""))
    s3_addressing_style: Literal["path", "virtual"] = Field(
        default="path",
        description="`path` (`endpoint/bucket/key`, what MinIO expects) or `virtual` "
        "(`bucket.endpoint/key`).",
    )
    s3_presigned_url_seconds: int = Field(
        default=0,
        ge=0,
        # SigV4 presigned URLs live at most 7 days.
        le=7 * 24 * 3600,
        description="Above 0 (with `s3`): `GET /v1/photos/{id}` and its signed form answer "
        "307 to a presigned URL of the object, valid this long, instead of passing the "
        "bytes through intake; the store must then be reachable by residents and CRMs.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for e-mail; unset, mails are written as .eml files into "
        "`<data_dir>/mail` instead.",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="`starttls` (port 587), `tls` (port 465) or `none` (local relays only).",
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = Field(
        default="MAM Wrocław <no-reply@localhost>",
        description="The From of every e-mail sent to residents.",
    )
    push_fcm_credentials_file: Path | None = Field(
        default=None,
        description="Firebase service account JSON: push to Android and web apps (and iOS "
        "when APNs is not set) through FCM HTTP v1. Unset, pushes are only logged.",
    )
    push_fcm_url: str = Field(default="https://fcm.googleapis.com")
    push_apns_key_file: Path | None = Field(
        default=None,
        description="APNs auth key (.p8) for pushing to iOS apps directly; with "
        "PUSH_APNS_KEY_ID, PUSH_APNS_TEAM_ID and PUSH_APNS_TOPIC (the app's bundle id).",
    )
    push_apns_key_id: str | None = None
    push_apns_team_id: str | None = None
    push_apns_topic: str | None = None
    push_apns_url: str = Field(
        default="https://api.push.apple.com",
        description="`https://api.sandbox.push.apple.com` for development builds.",
    )
    retention_inactive_account_days: int = Field(
        default=730,
        ge=30,
        description="Accounts with no sign-in and no report for this long are erased by "
        "`python -m intake_service retention`.",
    )
    retention_closed_report_days: int = Field(
        default=365,
        ge=1,
        description="Reports closed this long ago lose every link to a person.",
    )
    city_name: str = Field(
        default="Wrocław", description="Named in messages to residents."
    )
    service_area_file: Path = Field(
        default=DEFAULT_AREA_FILE,
        description="GeoJSON (Multi)Polygon of the area the city looks after; reports outside "
        "it are refused. The default is an approximate boundary of Wrocław.",
    )
    report_number_prefix: str = Field(
        default="WRO", pattern=r"^[A-Z]{2,8}$", description="Start of report numbers."
    )
    open311_jurisdiction_id: str = Field(
        default="wroclaw.pl",
        description="The Open311 `jurisdiction_id` of this server; requests naming another "
        "are answered 404 (it may also be left out).",
    )
    open311_service_type: Literal["realtime", "batch"] = Field(
        default="realtime",
        description="`realtime`: an Open311 POST answers the request's id at once; `batch`: "
        "it answers a token, which resolves to the id once the city's CRM has the case.",
    )
    open311_api_keys: list[ConfiguredKey] = Field(
        default=[],
        description="Keys of the Open311 clients allowed to file requests, given by hash "
        "rather than made with `python -m intake_service open311-key create`: a JSON list of "
        '{"name", "sha256"}.',
    )
    open311_key_service: str | None = Field(
        default=None,
        pattern=r"^(https?://|mailto:)\S+$",
        description="Where an outside developer asks for an Open311 `api_key`, as the "
        "discovery document's `key_service` says: a web page (`https://…`) or an address "
        "(`mailto:…`). Unset: this server's API documentation (`/docs`), which says to ask "
        "the city's IT team.",
        examples=["mailto:open311@um.wroc.pl"],
    )
    open311_media_allow_private_hosts: bool = Field(
        default=False,
        description="Fetch an Open311 `media_url` even from a loopback or private address "
        "(off: such URLs are refused, so that clients cannot make this server reach inside "
        "the city's network).",
    )
    open311_media_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest one attempt at fetching an Open311 `media_url` may take "
        "(looking the host up, connecting and reading the photo).",
    )
    open311_media_attempts: int = Field(
        default=8,
        ge=1,
        description="Attempts at fetching an Open311 `media_url` whose host does not "
        "answer (or answers with a server error) before the link is given up; a missing "
        "photo, one too large or not a photo, or a private address is given up at once.",
    )
    open311_media_retry_base_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Backoff between attempts at a `media_url`: the n-th retry waits a "
        "random time up to this times 2^(n-1) (full jitter), at most "
        "`open311_media_retry_cap_seconds`.",
    )
    open311_media_retry_cap_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="Longest wait between two attempts at a `media_url`.",
    )
    open311_media_wait_seconds: float = Field(
        default=120.0,
        ge=0,
        description="How long a request's hand-over to the city's CRM waits for the "
        "photos of its `media_url`s; it goes as soon as they are in (or given up), and "
        "without those still missing once this has passed (the report's Open311 GET gets "
        "a photo that arrives later all the same).",
    )
    adapter_url: str = Field(
        default="http://127.0.0.1:8001", description="Base URL of the CRM adapter."
    )
    delay_notice_minutes: float = Field(
        default=30.0,
        gt=0,
        description="A report whose hand-over to the CRM adapter has failed for this many "
        "minutes since it was filed (or has stopped) is shown to its resident as delayed "
        "(the adapter tells of delays past it with its own `ADAPTER_DELAY_NOTICE_MINUTES`).",
    )
    adapter_secret: SecretStr = Field(
        default=SecretStr(DEV_SECRETS["intake_to_adapter"]),
        description="Standard Webhooks secret (`whsec_…`) signing events sent to the adapter.",
    )
    events_secret: SecretStr = Field(
        default=SecretStr(DEV_SECRETS["adapter_to_intake"]),
        description="Secret the adapter signs status events with.",
    )
    events_secret_previous: SecretStr | None = Field(
        default=None,
        description="The previous secret, still accepted while it is rotated out.",
    )
    photo_url_secret: SecretStr = Field(
        default=SecretStr(DEV_SECRETS["photo_urls"]),
        description="Key (HMAC-SHA256) of the time-limited photo links the adapter hands to "
        "CRMs (`GET /v1/photos/{id}/signed`); the adapter's ADAPTER_PHOTO_URL_SECRET.",
    )
    photo_url_secret_previous: SecretStr | None = Field(
        default=None,
        description="The previous photo link key, still accepted while links signed with it "
        "live (as long as ADAPTER_PHOTO_URL_TTL_SECONDS).",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRETS["intake_secret_key"]),
        description="Key of the keyed hashes (HMAC-SHA256) in which e-mail codes and "
        "rate-limit keys (addresses, IP addresses) are stored; any long random text.",
    )
    password_hash_memory_kib: int = Field(
        default=65536,
        ge=1024,
        description="Memory one Argon2id password hash takes (KiB): 64 MiB, as "
        "recommended. Less lets more sign-ins run at once on a small host; in production "
        "memory times passes is at least 35 MiB, as OWASP's settings are (19 MiB with 2 "
        "passes, 7 MiB with 5). A stored hash made with other costs is made again at its "
        "next sign-in.",
    )
    password_hash_passes: int = Field(
        default=3,
        ge=1,
        description="Passes Argon2id makes over that memory for one password hash.",
    )
    access_token_ttl_seconds: int = Field(
        default=15 * 60, ge=60, description="Lifetime of access tokens."
    )
    refresh_token_ttl_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=300,
        description="Lifetime of each refresh token; every refresh hands out a new one.",
    )
    email_code_ttl_seconds: int = Field(
        default=15 * 60,
        ge=60,
        description="How long a verification or password reset code is valid.",
    )
    email_code_max_tries: int = Field(
        default=5,
        ge=1,
        description="Wrong entries after which a code is void and a new one is needed.",
    )
    email_code_resend_seconds: int = Field(
        default=60,
        ge=0,
        description="Least time between two mailed codes to one account.",
    )
    throttle_window_seconds: int = Field(
        default=15 * 60,
        ge=1,
        description="The window the throttle limits below count in.",
    )
    throttle_signin_per_account: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins per e-mail address and window; a success clears them.",
    )
    throttle_signin_per_client: int = Field(
        default=20, ge=1, description="Failed sign-ins per IP address and window."
    )
    throttle_codes_per_account: int = Field(
        default=10,
        ge=1,
        description="Wrong verification or reset codes per e-mail address and window.",
    )
    throttle_codes_per_client: int = Field(
        default=20,
        ge=1,
        description="Wrong verification or reset codes per IP address and window.",
    )
    throttle_mails_per_client: int = Field(
        default=20,
        ge=1,
        description="Registrations, code resends and reset requests per IP address and "
        "window.",
    )
    # What residents write, each limited per client address (IPv6 per /64), per account
    # when signed in and per device id when one is sent: generous per address, because a
    # carrier's NAT puts many phones behind one.
    throttle_writes_window_seconds: int = Field(
        default=60 * 60,
        ge=1,
        description="The window the limits on reports, photos and other writes count in.",
    )
    throttle_reports_per_client: int = Field(
        default=60, ge=1, description="Reports per IP address and window."
    )
    throttle_reports_per_account: int = Field(
        default=20,
        ge=1,
        description="Reports per account (signed in) or per device id and window.",
    )
    throttle_photos_per_client: int = Field(
        default=120,
        ge=1,
        description="Photos sent with reports per IP address and window.",
    )
    throttle_writes_per_client: int = Field(
        default=120,
        ge=1,
        description='Ideas, survey answers, "me too" and feedback together per IP '
        "address and window.",
    )
    throttle_writes_per_account: int = Field(
        default=60,
        ge=1,
        description='Ideas, survey answers, "me too" and feedback together per account '
        "(signed in) or per device id and window.",
    )
    throttle_flags_per_client: int = Field(
        default=30,
        ge=1,
        description="Abuse flags of reports per IP address and window.",
    )
    throttle_flags_per_account: int = Field(
        default=10,
        ge=1,
        description="Abuse flags of reports per account (signed in) and window.",
    )

    @model_validator(mode="after")
    def _default_photo_dir(self) -> Self:
        if self.photo_dir is None:
            self.photo_dir = self.data_dir / "photos"
        return self

    @model_validator(mode="after")
    def _complete_s3_store(self) -> Self:
        self.s3_prefix = self.s3_prefix.strip("/")
        if self.photo_store == "s3" and not self.s3_bucket:
            raise ValueError(
                "s3_bucket (INTAKE_S3_BUCKET) must name the photos' bucket when "
                "photo_store (INTAKE_PHOTO_STORE) is s3"
            )
        secret = self.s3_secret_access_key.get_secret_value()
        if bool(self.s3_access_key_id) != bool(secret):
            raise ValueError(
                "s3_access_key_id and s3_secret_access_key (INTAKE_S3_ACCESS_KEY_ID, "
                "INTAKE_S3_SECRET_ACCESS_KEY) go together: set both, or neither for "
                "botocore's own credential chain"
            )
        if self.s3_prefix and not _S3_PREFIX.fullmatch(self.s3_prefix):
            raise ValueError(
                "s3_prefix (INTAKE_S3_PREFIX) may hold letters, digits, `_`, `-`, `.` "
                "and `/` between folder names, and no `..`"
            )
        if self.s3_presigned_url_seconds and self.photo_store != "s3":
            raise ValueError(
                "s3_presigned_url_seconds (INTAKE_S3_PRESIGNED_URL_SECONDS) needs "
                "photo_store (INTAKE_PHOTO_STORE) s3"
            )
        return self

    @model_validator(mode="after")
    def _hard_password_hashes_in_production(self) -> Self:
        work = self.password_hash_memory_kib * self.password_hash_passes
        if self.environment == "production" and work < OWASP_LEAST_ARGON2_WORK_KIB:
            raise ValueError(
                "password_hash_memory_kib × password_hash_passes must be at least "
                f"{OWASP_LEAST_ARGON2_WORK_KIB} in production (OWASP's least for "
                "Argon2id)"
            )
        return self

    def mailer(self) -> Mailer:
        if self.smtp_host is None:
            return FolderMailer(self.data_dir / "mail")
        return SmtpMailer(
            host=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value()
            if self.smtp_password
            else None,
        )

    def photo_concurrency(self) -> int:
        return self.photo_workers or os.cpu_count() or 1

    def face_threshold(self) -> float | None:
        """The face detector's threshold; None when faces are not blurred."""
        return self.photo_face_threshold if self.photo_blur_faces else None

    def events_secrets(self) -> list[str]:
        return secrets_of(self.events_secret, self.events_secret_previous)

    def photo_url_secrets(self) -> list[str]:
        return secrets_of(self.photo_url_secret, self.photo_url_secret_previous)
