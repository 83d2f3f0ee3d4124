"""The benchmark's figures: ratios, targets and the JSON machines read."""

import json
import math

from civil_orders.drills.bench_figures import Area, Figure, LatencyArea, Report, Target
from civil_orders.drills.bench_probes import Latencies


def test_a_percentile_is_the_nearest_ranked_latency_in_milliseconds() -> None:
    latencies = Latencies([0.004, 0.001, 0.003, 0.002, 0.005])
    assert (latencies.ms(0), latencies.ms(50), latencies.ms(100)) == (1, 3, 5)


def test_a_target_bounds_the_value_or_the_ratio_to_the_baseline() -> None:
    slow = Figure("granted → alert", 40, "ms", 2, Target(25, at_most=True))
    behind_the_peer = Figure("stored events /s", 300, "/s", 600, Target(1, of_ratio=True))
    assert slow.ratio == 20 and slow.target and slow.target.met_by(slow) is False
    assert behind_the_peer.target and behind_the_peer.target.met_by(behind_the_peer) is False
    assert Target(0.3, of_ratio=True).met_by(Figure("rebuild", 90, "/s", 300)) is True


def test_a_figure_without_a_baseline_has_no_ratio_and_meets_no_target() -> None:
    unmeasured = Figure("stored events /s", 300, "/s", math.nan, Target(1, of_ratio=True))
    written = unmeasured.as_json("the peer")
    assert written["ratio"] is None and written["meets_target"] is None
    assert json.dumps(written)  # no NaN reaches the JSON


def test_the_json_keeps_every_figure_under_its_own_key_with_its_baseline() -> None:
    latency = LatencyArea("latency", "raw round trip")
    figures = {p: Figure("granted → alert", 10.0 * p, "ms", 1.0) for p in (50, 95, 99)}
    latency.add_row("grant_to_alert_1_in_flight", "granted → alert, 1 in flight", figures)
    intake = Area("bulk intake", "raw produce and consume", name="intake")
    intake.figures["intake_referrals_per_s"] = Figure("referrals /s", 500, "/s", 1000, Target(2000))
    intake.cores = {"referral": 0.6543, "postgres": 0.3, "bench": 0.001}
    report = Report({"cores": 2}, [latency, intake], {"history_events": 10})

    written = report.as_json()

    assert list(written["figures"]) == [
        "grant_to_alert_1_in_flight_p50_ms",
        "grant_to_alert_1_in_flight_p95_ms",
        "grant_to_alert_1_in_flight_p99_ms",
        "intake_referrals_per_s",
    ]
    assert written["figures"]["intake_referrals_per_s"] == {
        "value": 500,
        "unit": "/s",
        "baseline": 1000,
        "baseline_is": "raw produce and consume",
        "ratio": 0.5,
        "target": {"of": "value", "at_least": 2000},
        "meets_target": False,
    }
    assert written["parameters"] == {"cores": 2} and written["details"] == {"history_events": 10}
    # the cores each process used, for the areas that counted them, under the area's name
    assert written["cores"] == {"intake": {"referral": 0.654, "postgres": 0.3, "bench": 0.001}}
    assert intake.caption.endswith("cores used meanwhile: referral 0.65 · postgres 0.30")
