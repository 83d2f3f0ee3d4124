"""The one settings object, read from the environment and validated at start."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlparse

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from plumbing.keystore import MasterKeys

# the force's configuration as shipped (the `config` package), read by services and tools alike
PACKAGED_CONFIG = Path(__file__).resolve().parent.parent / "config"

SERVICE_PORTS = {
    "web": 8100,
    "referral": 8101,
    "application": 8102,
    "breach": 8103,
    "notification": 8104,
    "readmodels": 8105,
}
# the services that keep their events, and publish them: the history everything replays
EVENT_STORES = ("referral", "application", "breach", "notification", "web")


class ClockSettings(BaseSettings):
    """The one clock every process reads: the real time, unless a test or a drill moves it.
    Services judge deadlines, expiries and checks by it and stamp their events with it; the
    command line dates what it sends by it (see `schemas.dates.judge_dates_by`)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    clock_offset_seconds: float = Field(
        default=0.0,
        description="How far the clock runs ahead of the real time, in seconds (behind, if "
        "negative), for tests and drills only: a test run sets it so that its day does not "
        "end while it runs.",
    )
    clock_date: date | None = Field(
        default=None,
        description="The date it is, for the calendar, the checks, the times events record "
        "and the latest date accepted from outside: the date stays this while the time of "
        "day runs (tests and drills only). Unset: the real date.",
    )

    def current_date(self) -> date:
        """The date deadlines, expiries and quality checks are judged against."""
        return self.current_time().date()

    def current_time(self) -> datetime:
        """Now: the real time, moved by CLOCK_OFFSET_SECONDS, then to CLOCK_DATE's day."""
        now = datetime.now(UTC) + timedelta(seconds=self.clock_offset_seconds)
        if self.clock_date is None:
            return now
        return now + (self.clock_date - now.date())


class Settings(ClockSettings):
    """Settings for every civil-orders process. Secrets are marked SecretStr."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    database_url: str = Field(
        description="PostgreSQL URL; each service keeps its events in its own schema.",
        json_schema_extra={"secret": True},
        examples=["postgresql://postgres@localhost:5432/civil_orders"],
    )
    kafka_bootstrap_servers: str = Field(
        description="Comma-separated Kafka bootstrap servers.", examples=["localhost:9092"]
    )
    kafka_idempotence: bool = Field(
        default=False,
        description="Idempotent producers (set true on real Apache Kafka; Tansu refuses them).",
    )
    kafka_acks: Literal["all", "1", "0"] = Field(
        default="all",
        description="Acknowledgements a producer waits for: all in-sync replicas, the leader "
        "alone, or none (loses events when a broker fails; for drills only).",
    )
    kafka_linger_ms: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="How long a producer waits to fill a batch. The relay already sends "
        "everything ready at once, so 0 costs nothing in throughput.",
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=50,
        ge=1,
        le=5000,
        description="Longest a consumer's fetch waits at the broker for data. The embedded "
        "broker answers a fetch at once when it has data; otherwise it looks again at half "
        "the wait, then at three quarters, seven eighths and so on, and answers at the first "
        "look that finds some (a fetch of one partition or of several alike). So a lone "
        "event may wait up to half of this at each hop (measured: 25 ms at 50, 250 at 500); "
        "lower polls more, and on two cores the polling costs more than it saves below "
        "about 50. Apache Kafka answers as soon as data arrives: 500 there (and for the "
        "alert wait too).",
    )
    read_model_fetch_max_wait_ms: int = Field(
        default=250,
        ge=1,
        le=5000,
        description="The same, for the read-model service, which no alert waits on: a longer "
        "wait takes bigger batches, each one transaction, so the services that are on an "
        "alert's path get the CPU (on the embedded broker, a read model may be this much "
        "behind its services).",
    )
    alert_fetch_max_wait_ms: int = Field(
        default=10,
        ge=1,
        le=5000,
        description="The same, for the notification service, whose consumer is the last hop "
        "of every alert (order allocated or breach recorded, to the team's alert). Measured "
        "on the embedded broker and two cores: a lone alert arrives about 10 ms sooner at the "
        "median than at 50, for about 0.08 of a core more polling while idle; at 5 the "
        "polling costs more than it saves.",
    )
    kafka_poll_ms: int = Field(
        default=50,
        ge=1,
        le=5000,
        description="Longest a consumer waits for its fetches to bring something before it "
        "looks again (it takes what they bring as soon as they bring it, so this adds no "
        "delay). Lower wakes idle services more often.",
    )
    kafka_max_batch: int = Field(
        default=500,
        ge=1,
        le=10000,
        description="Most events a consumer applies in one transaction (one offset commit).",
    )
    kafka_cluster_check_seconds: float = Field(
        default=2.0,
        gt=0,
        le=300,
        description="How often a service asks the broker its cluster id: on a new cluster (a "
        "broker that lost its data) it declares the topics and sends the whole history again.",
    )
    relay_batch: int = Field(
        default=1000,
        ge=1,
        le=10000,
        description="Most events the outbox relay publishes before recording its position.",
    )
    team_directory: Path = Field(
        default=PACKAGED_CONFIG / "teams.yaml",
        description="YAML file of districts, their MOSOVO teams and the teams' alert channels.",
    )
    screening_rules: Path = Field(
        default=PACKAGED_CONFIG / "screening-rules.yaml",
        description="YAML file of the versioned rules that screen non-positive disposals.",
    )
    caseworkers: list[str] = Field(
        default=["caseworker:cw-1", "caseworker:cw-2"],
        description="Civil order caseworkers who take accepted referrals (JSON list).",
    )
    triage_service_level_days: int = Field(
        default=5, ge=1, description="Working days a referral may wait for triage."
    )
    referral_check_seconds: float = Field(
        default=3600, gt=0, description="How often to look for referrals overdue for triage."
    )
    review_check_seconds: float = Field(
        default=3600, gt=0, description="How often to look for people whose MoPI review is due."
    )
    mopi_group_1_review_years: int = Field(
        default=10,
        ge=1,
        description="MoPI group 1, people managed for sexual risk (an order was made against "
        "them): their record is reviewed this many years after the last change to it, and "
        "again as often after each review.",
    )
    mopi_group_2_review_years: int = Field(
        default=10,
        ge=1,
        description="MoPI group 2, other sexual risk casework (an application was opened, no "
        "order made): reviewed this many years after the last change.",
    )
    mopi_group_3_review_years: int = Field(
        default=6,
        ge=1,
        description="MoPI group 3, everything else (referrals declined or not yet taken on, "
        "suspects flagged by screening): reviewed after a clear period of this many years.",
    )
    webhook_secret: SecretStr = Field(
        default=SecretStr("embedded-stack-webhook-secret"),
        description="Shared secret that signs webhook alerts (HMAC-SHA256).",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8100",
        description="Base of links put in alerts (the web interface).",
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP relay for email alerts.")
    smtp_port: int = Field(default=8025, ge=1, le=65535, description="Port of the SMTP relay.")
    smtp_sender: str = Field(
        default="civil-orders@force.example", description="From address of email alerts."
    )
    alert_delivery_attempts: int = Field(
        default=4, ge=1, description="Attempts per channel before an alert is recorded failed."
    )
    alert_retry_base_seconds: float = Field(
        default=0.5, gt=0, description="First retry backoff; it doubles each attempt."
    )
    alert_send_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Longest one attempt to send an alert waits for the team's webhook or "
        "SMTP relay. Each team's alerts go out in a lane of their own, so a team whose system "
        "hangs holds up only its own.",
    )
    alert_ack_timeout_seconds: float = Field(
        default=4 * 60 * 60,
        gt=0,
        description="An alert not acknowledged this long after delivery is escalated, once.",
    )
    renewal_review_months: int = Field(
        default=3, ge=0, description="How many months before an order ends to raise its review."
    )
    notification_due_days: int = Field(
        default=3,
        ge=1,
        le=28,
        description="Days after an SRO is made by which its subject must notify their name and "
        "home address, and after a change of either (SOA 2003 s.122F).",
    )
    national_record_ack_hours: float = Field(
        default=72,
        gt=0,
        description="Hours within which a change to an order (made, varied, renewed, ended) "
        "must be acknowledged as entered on the national record (PNC and ViSOR) before it is "
        "escalated to the ViSOR unit's queue.",
    )
    complaint_time_limit_months: int = Field(
        default=6, ge=1, description="Months after the matter relied on to complain to a court."
    )
    complaint_warning_days: int = Field(
        default=28, ge=1, description="Days before the complaint deadline to warn the caseworker."
    )
    order_calendar_check_seconds: float = Field(
        default=3600, gt=0, description="How often to look for orders ending or due for review."
    )
    alert_ack_check_seconds: float = Field(
        default=30, gt=0, description="How often to look for unacknowledged alerts."
    )
    host: str = Field(default="127.0.0.1", description="Address service HTTP servers bind.")
    service_urls: dict[str, str] = Field(
        default={name: f"http://127.0.0.1:{port}" for name, port in SERVICE_PORTS.items()},
        description="Where the web app reaches each service (JSON object of name to URL).",
    )
    staff_directory: Path = Field(
        default=PACKAGED_CONFIG / "users.yaml",
        description="YAML file of the synthetic staff the local issuer signs in.",
    )
    auth_issuer: str = Field(
        default="civil-orders-local",
        description="Issuer (iss) of the sign-in tokens the web app accepts.",
        examples=["https://login.force.example/realms/civil-orders"],
    )
    auth_audience: str = Field(
        default="civil-orders", description="Audience (aud) the tokens must name."
    )
    auth_algorithm: str = Field(
        default="HS256",
        pattern="^(HS256|HS384|HS512|RS256|RS384|RS512|ES256|ES384|EdDSA)$",
        description="Signature algorithm of the tokens (RS256 for most OIDC providers).",
    )
    auth_key: SecretStr = Field(
        default=SecretStr("embedded-stack-local-issuer-key-change-me-in-production"),
        description="The issuer's public key (PEM) for RS/ES algorithms; the shared secret "
        "for HS ones, which the local issuer also signs with.",
        json_schema_extra={"secret": True},
    )
    auth_token_minutes: int = Field(
        default=8 * 60, ge=1, description="How long a token from the local issuer lasts."
    )
    local_sign_in: bool = Field(
        default=True,
        description="Offer the local issuer's sign-in page (the synthetic staff); turn off "
        "where the force's identity provider issues tokens.",
    )
    service_token: SecretStr | None = Field(
        default=None,
        description="The tools' bearer token for the web app's event feed: their service "
        "account's, from the force's identity provider (role `service account`). Unset: they "
        "sign one with `AUTH_KEY`, which only the local issuer's shared secret allows.",
        json_schema_extra={"secret": True},
    )
    personal_data_master_keys: SecretStr = Field(
        default=SecretStr("1:le89kw7aIkUz3GVfdZHW4BPrOzilk4KlmIjV8lMAdmk="),
        description="Master keys that wrap each person's key: VERSION:BASE64 (32 random "
        "bytes) pairs separated by commas. The highest version wraps new keys; keep older "
        "ones until `civil-orders keys rotate` has re-wrapped every key, then retire them. "
        "In production, from the force's secret store (or a KMS); never the default.",
    )
    personal_data_lookup_key: SecretStr = Field(
        default=SecretStr("embedded-stack-personal-data-lookup-key-change-me"),
        description="Secret that turns a nominal into the key store's lookup (HMAC-SHA256), "
        "so the key store lists no nominals. Set it once, from the secret store: changed, "
        "everyone would get a second key, and erasing a person would miss their first.",
    )
    personal_keys_database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of the key store (schema `keys`); unset: DATABASE_URL. "
        "Point it at a database of its own with its own role in production.",
        json_schema_extra={"secret": True},
    )
    personal_key_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        le=300,
        description="Longest a process keeps a person's opened key, or an aggregate it has "
        "loaded or saved (which holds opened data), in memory: each forgets them when the key "
        "store's notice of a destroyed key arrives, and within this time should it miss one.",
    )
    recent_aggregates: int = Field(
        default=20_000,
        ge=0,
        le=1_000_000,
        description="Most aggregates a process keeps in memory, as they stood after it last "
        "read or saved them (each for the time above at most), so that its next use of one "
        "reads only the events stored since. Screening a backlog comes back to a suspect's "
        "history and record across the whole backlog: 20,000 disposals of 5,000 suspects "
        "touch 10,000 aggregates, and with 2,000 kept a batch took twice as long to load "
        "them. About a kilobyte each.",
    )

    @field_validator("database_url", "personal_keys_database_url")
    @classmethod
    def _is_postgres(cls, value: str | None) -> str | None:
        if value is not None and urlparse(value).scheme not in ("postgres", "postgresql"):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("personal_data_master_keys")
    @classmethod
    def _are_master_keys(cls, value: SecretStr) -> SecretStr:
        MasterKeys.parse(value.get_secret_value())
        return value

    def producer_acks(self) -> Literal["all", 0, 1]:
        """`kafka_acks` as the Kafka clients take it: a number, or "all"."""
        return "all" if self.kafka_acks == "all" else 1 if self.kafka_acks == "1" else 0

    def mopi_review_years(self) -> dict[int, int]:
        """The years to each review, by MoPI review group."""
        return {
            1: self.mopi_group_1_review_years,
            2: self.mopi_group_2_review_years,
            3: self.mopi_group_3_review_years,
        }

    @classmethod
    def reference(cls) -> list[dict[str, str]]:
        """Every setting: its environment variable, default, whether secret, and meaning."""
        rows = []
        fields = cls.model_fields.items()  # the clock's, tests' and drills' own, go last
        for name, field in sorted(fields, key=lambda item: item[0] in ClockSettings.model_fields):
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            secret = field.annotation is SecretStr or bool(extra.get("secret"))
            default = "(required)" if field.is_required() else str(field.default)
            rows.append(
                {
                    "variable": name.upper(),
                    "default": "(a development value)"
                    if secret and field.default is not None and not field.is_required()
                    else default.replace(str(PACKAGED_CONFIG), "<package>/config"),
                    "secret": "yes" if secret else "",
                    "meaning": field.description or "",
                }
            )
        return rows

    def postgres_env(self, schema: str) -> dict[str, str]:
        """The eventsourcing library's settings for a service's own schema."""
        url = urlparse(self.database_url)
        query = parse_qs(url.query)
        host = query.get("host", [url.hostname or "localhost"])[0]
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": (url.path or "/postgres").lstrip("/") or "postgres",
            "POSTGRES_HOST": host,
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_SCHEMA": schema,
            "SINGLE_ROW_TRACKING": "f",
            "POSTGRES_POOL_SIZE": "4",
        }
