"""Keep-alive clients across blue-green switches, seen by a real load tool (wrk, Debian's package): ten
switches under wrk's keep-alive connections on every target, and not one socket error or non-2xx answer.
nginx used to drop 7-28 requests per switch (its reload closed the old workers' idle keep-alive connections)."""

from __future__ import annotations

import re
import signal
import subprocess

import pytest
from conftest import require_binary
from deploy_service import TARGETS, open_target, version

from pytest_iotops.deploy.blue_green import blue_green

SWITCHES = 10


@pytest.mark.parametrize("target_name", TARGETS)
def test_wrk_keep_alive_clients_see_no_error_across_ten_switches(target_name: str) -> None:
    wrk = require_binary("wrk")
    target = open_target(target_name, {"blue": version("blue"), "green": version("green")})
    outcomes = []
    try:
        target.start("blue")
        target.set_weights({"blue": 100})
        # wrk stops at SIGINT and prints its summary; the duration is only an upper bound. Its timeout is 10 s,
        # not its 2 s default: what this test judges is connections dropped or refused by a switch and non-2xx
        # answers, not the latency of a router thread starved by a loaded machine (under `stress --cpu 4` all 16
        # connections once waited over 2 s at the same moment, counted as "timeout 16" with no other error)
        load = subprocess.Popen(
            [wrk, "-t1", "-c16", "-d120s", "--timeout", "10s", target.url + "/sensors/boiler"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            active = "blue"
            for _ in range(SWITCHES):
                new = "green" if active == "blue" else "blue"
                result = blue_green(target, active, new, keep_old_for=0.2)
                outcomes.append(result.outcome)
                active = new
        finally:
            load.send_signal(signal.SIGINT)
            out, _ = load.communicate(timeout=30)
    finally:
        target.close()
    assert outcomes == ["promoted"] * SWITCHES
    completed = re.search(r"(\d+) requests in", out)
    assert completed, out
    # traffic ran through every switch: more than two requests per connection per switch (how many more depends on
    # the machine: about 175/s under stress --cpu 4, where a fixed 1,000 failed with 855 in 4.9 s)
    assert int(completed.group(1)) > 2 * 16 * SWITCHES, out
    assert "Socket errors" not in out, out
    assert "Non-2xx" not in out, out
