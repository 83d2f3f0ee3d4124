"""No container engine runs here, so the deployment files are checked against the project:
they must parse, and name only commands, settings, paths and metrics that exist."""

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from civil_orders.cli import app
from plumbing.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS_STORED, FOLLOWER_LAG
from plumbing.settings import SERVICE_PORTS, Settings
from plumbing.topics_admin import strimzi_manifests
from schemas.configuration import TeamDirectory
from services.notification.inbox import ALERTS, UNACKNOWLEDGED

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
SETTINGS = {name.upper() for name in Settings.model_fields}
IMAGE = "civil-orders:latest"


def check_command(args: list[str]) -> None:
    """The arguments name a real command of `civil-orders`, and a real service."""
    command: Any = typer.main.get_command(app)
    for word in args:
        if word.startswith("-") or not hasattr(command, "list_commands"):
            break
        assert word in command.list_commands(None), f"civil-orders has no command {word!r}"
        command = command.get_command(None, word)
    if args[0] == "serve":
        assert args[1] in SERVICE_PORTS
        assert args[args.index("--port") + 1] == str(SERVICE_PORTS[args[1]])


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def kubernetes() -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((DEPLOY / "k8s" / "civil-orders.yaml").read_text()))


def test_compose_runs_each_service_by_its_own_real_command_with_real_settings() -> None:
    ours = {n: s for n, s in compose()["services"].items() if s.get("image") == IMAGE}

    assert set(SERVICE_PORTS) <= set(ours)
    for service in ours.values():
        check_command(service["command"])
        assert set(service["environment"]) <= SETTINGS
    env_file = (DEPLOY / "civil-orders.env").read_text().splitlines()
    assert {
        line.split("=")[0] for line in env_file if line and not line.startswith("#")
    } <= SETTINGS


def test_compose_publishes_only_the_web_app_and_signs_in_through_the_identity_provider() -> None:
    ours = {n: s for n, s in compose()["services"].items() if s.get("image") == IMAGE}
    settings = dict(
        line.split("=", 1)
        for line in (DEPLOY / "civil-orders.env").read_text().splitlines()
        if line and not line.startswith("#")
    )

    # the services' own APIs take the acting user from the web app, unchecked
    assert {name for name, service in ours.items() if service.get("ports")} == {"web"}
    assert settings["LOCAL_SIGN_IN"] == "false"  # no synthetic staff, no shared secret


def test_compose_runs_three_kraft_brokers_that_replicate_to_two_at_least() -> None:
    brokers = [s for n, s in compose()["services"].items() if n.startswith("kafka-")]

    assert len(brokers) == 3
    for broker in brokers:
        assert broker["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert broker["environment"]["KAFKA_MIN_INSYNC_REPLICAS"] == 2


def test_prometheus_scrapes_every_service_where_it_listens() -> None:
    scrape = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    [job] = scrape["scrape_configs"]

    assert job["static_configs"][0]["targets"] == [f"{n}:{p}" for n, p in SERVICE_PORTS.items()]


def test_kubernetes_deployments_use_real_commands_settings_and_probe_paths() -> None:
    documents = kubernetes()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for document in documents:
        by_kind.setdefault(document["kind"], []).append(document)
    configured = {
        key
        for document in by_kind["ConfigMap"] + by_kind["Secret"]
        for key in document.get("data", {}) | document.get("stringData", {})
        if key != "teams.yaml"
    }

    assert configured <= SETTINGS
    assert {d["metadata"]["name"] for d in by_kind["Deployment"]} == set(SERVICE_PORTS)
    for deployment in by_kind["Deployment"]:
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["image"] == IMAGE
        check_command(container["args"])
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["resources"]["requests"]


def test_the_team_directories_shipped_for_deployment_are_valid() -> None:
    TeamDirectory.model_validate(yaml.safe_load((DEPLOY / "teams.yaml").read_text()))
    [teams] = [d for d in kubernetes() if d["metadata"]["name"] == "civil-orders-teams"]
    TeamDirectory.model_validate(yaml.safe_load(teams["data"]["teams.yaml"]))


@pytest.mark.parametrize(
    ("path", "generated"),
    [
        ("k8s/kafka-topics.yaml", lambda: list(strimzi_manifests())),
        ("SETTINGS.md", None),
    ],
)
def test_generated_deployment_files_match_the_code(path: str, generated: Any) -> None:
    text = (DEPLOY / path).read_text()
    if generated is not None:
        assert list(yaml.safe_load_all(text)) == generated(), "run `civil-orders topics manifest`"
    else:
        for row in Settings.reference():
            assert f"| `{row['variable']}` | `{row['default']}` |" in text, row["variable"]


def test_every_topic_is_replicated_three_times_with_two_in_sync() -> None:
    for topic in yaml.safe_load_all((DEPLOY / "k8s" / "kafka-topics.yaml").read_text()):
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["min.insync.replicas"] == "2"


def test_the_image_copies_what_exists_and_runs_the_projects_command() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]

    for source in re.findall(r"^COPY (?!--)(\S+)", dockerfile, re.MULTILINE):
        assert (ROOT / source).exists(), source
    assert 'ENTRYPOINT ["civil-orders"]' in dockerfile and "civil-orders" in scripts


def test_the_dashboard_charts_only_metrics_the_services_export() -> None:
    ours = {
        m._name
        for m in (EVENTS_STORED, FOLLOWER_LAG, CONSUMER_LAG, DEAD_LETTERS, ALERTS, UNACKNOWLEDGED)
    }
    faststream = {
        "civil_orders_received_processed_messages",
        "civil_orders_received_processed_messages_duration_seconds",
    }
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())

    for panel in dashboard["panels"]:
        for name in re.findall(r"civil_orders_[a-z_]+", panel["targets"][0]["expr"]):
            name = re.sub(r"_(total|bucket)$", "", name)
            assert name in ours | faststream, name
