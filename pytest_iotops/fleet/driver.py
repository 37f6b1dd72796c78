"""The controller's side of the wire: drives a :class:`~.controller.Rollout` over MQTT and keeps the virtual
clock. Each tick: publish the time (and how many commands went to each host), wait until every host answered
and its reports arrived, apply them in a fixed order, let the rollout decide, send its commands. A tick that
sent commands is followed by another at the same time, so devices hear them before time moves; otherwise time
jumps to the next thing anyone has scheduled, but never by less than the policy's resolution.

Lost messages (a broker restart) cannot stall the clock: an unanswered tick is sent again, and reports a host
sent but the broker lost are written off after a grace period (``lost_reports``); the devices' status on
reconnecting brings the views up to date.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import field
from typing import Any

from ..errors import FleetError
from ..values import Value, record
from .controller import Rollout
from .link import Link
from .protocol import Topics, encode, parse_ack, parse_report

__all__ = ["ClockStats", "Driver"]

GRACE = 5.0  # seconds of real time before a missing answer counts as lost (loaded CI machines are slow)


@record
class ClockStats(Value):
    ticks: int = 0
    resent_ticks: int = 0
    lost_reports: int = 0
    malformed: list[str] = field(default_factory=list)
    virtual_seconds: float = 0.0
    decided_at: float | None = None
    told_all_seconds: float | None = None  # real seconds from the abort decision until every device had its command


class Driver:
    def __init__(
        self,
        rollout: Rollout,
        topics: Topics,
        broker: tuple[str, int],
        hosts: int,
        run: str,
        clock: str = "virtual",
        speed: float = 1.0,
        restart_at: Sequence[float] = (),
        restart: Callable[[], None] | None = None,
        deadline: float = 600.0,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.rollout, self.topics, self.broker, self.hosts, self.run_id = rollout, topics, broker, hosts, run
        self.clock, self.speed = clock, speed
        self.restart_at = sorted(restart_at)
        self.restart = restart
        self.deadline = deadline
        self.progress = progress
        self.stats = ClockStats()
        self.sent = [0] * hosts
        self.received = [0] * hosts
        self.lost = [0] * hosts
        self.acks: dict[int, dict[str, Any]] = {}
        self.pending: list[dict[str, Any]] = []
        self.changed = asyncio.Event()
        self.host_of = {v.device: v.host for v in rollout.views.values()}
        self._sem = asyncio.Semaphore(256)

    def _on_message(self, topic: str, payload: bytes) -> None:
        if topic.endswith("/ack"):
            ack = parse_ack(payload)
            if isinstance(ack, str) or not 0 <= ack["host"] < self.hosts:
                self.stats.malformed.append(f"{topic}: {ack if isinstance(ack, str) else 'unknown host'}")
            elif ack["tick"] >= self.acks.get(ack["host"], {}).get("tick", -2):
                self.acks[ack["host"]] = ack
        else:
            report = parse_report(payload)
            device = topic.split("/")[-2]
            host = self.host_of.get(device)
            if host is not None:
                self.received[host] += 1  # counted for the barrier whatever it says: its host sent it
            if host is None:
                self.stats.malformed.append(f"{topic}: no such device in this fleet")
            elif isinstance(report, str) or report["device"] != device:
                problem = report if isinstance(report, str) else f"names device {report['device']!r}"
                self.stats.malformed.append(f"{topic}: {problem}")
            else:
                self.pending.append(report)
        self.changed.set()

    async def _wait(self, ready: Callable[[], bool], seconds: float) -> bool:
        end = time.monotonic() + seconds
        while not ready():
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.25))
        return True

    async def _send(self, commands: list[tuple[str, dict[str, Any]]]) -> None:
        async def one(device: str, message: dict[str, Any]) -> None:
            async with self._sem:
                await self.link.publish(self.topics.command(device), encode(message))

        for device, _ in commands:
            self.sent[self.host_of[device]] += 1
        await asyncio.gather(*(one(d, m) for d, m in commands))

    async def _tick(self, tick: int, t: float) -> None:
        message = encode({"tick": tick, "t": t, "sent": {str(h): n for h, n in enumerate(self.sent)}})
        started = time.monotonic()
        await self.link.publish(self.topics.clock, message)

        def answered() -> bool:
            return all(self.acks.get(h, {}).get("tick", -2) >= tick for h in range(self.hosts))

        while not await self._wait(answered, GRACE):
            if time.monotonic() - started > 60.0:
                missing = [h for h in range(self.hosts) if self.acks.get(h, {}).get("tick", -2) < tick]
                raise FleetError(f"device host(s) {missing} did not answer tick {tick} (t={t:g}s) for 60 s")
            self.stats.resent_ticks += 1
            await self.link.publish(self.topics.clock, message)

        def arrived() -> bool:
            return all(self.received[h] + self.lost[h] >= self.acks[h]["reports"] for h in range(self.hosts))

        if not await self._wait(arrived, GRACE):
            for h in range(self.hosts):
                short = self.acks[h]["reports"] - self.received[h] - self.lost[h]
                if short > 0:
                    self.lost[h] += short
                    self.stats.lost_reports += short
        self.stats.ticks += 1

    def _tell(self, seen: int, t: float) -> None:
        """Live progress: each new decision as a line (wave started, continued, extended, stopped)."""
        if self.progress is None:
            return
        for d in self.rollout.decisions[seen:]:
            c = self.rollout.counts()
            failed = c["failed"] + c["timed_out"] + c["rejected"]
            self.progress(
                f"fleet t={t / 3600:.2f}h wave {d['wave']}: {d['action']} ({d['released']} released, "
                f"{c['succeeded']} succeeded, {failed} failed) {d['detail'][:90]}"
            )

    def _apply(self, t: float) -> None:
        pending, self.pending = self.pending, []
        for report in sorted(pending, key=lambda r: (r["device"], r["seq"])):
            self.rollout.apply(report, t)

    def _next_time(self, t: float) -> float | None:
        times = [a.get("next") for a in self.acks.values()]
        times += [self.rollout.next_deadline(), self.rollout.next_release(t)]
        live = [float(x) for x in times if x is not None]
        if self.rollout.done and not any(a.get("next") is not None for a in self.acks.values()):
            return None
        if not live:
            return None if self.rollout.done else t + self.rollout.policy.resolution
        return max(t + self.rollout.policy.resolution, min(live))

    async def run(self) -> None:
        host, port = self.broker
        self.link = Link(
            host, port, f"{self.run_id}-controller", [self.topics.reports, self.topics.acks], self._on_message
        )
        self.link.start()
        try:
            await self._drive()
        finally:
            await self.link.close()

    async def _drive(self) -> None:
        await self.link.connected.wait()
        ready = await self._wait(lambda: len(self.acks) == self.hosts, self.deadline)
        if not ready:
            raise FleetError(f"only {len(self.acks)} of {self.hosts} device hosts connected")
        started = time.monotonic()
        tick, t, settle_until = 0, 0.0, None
        decided: float | None = None
        while True:
            if time.monotonic() - started > self.deadline:
                raise FleetError(
                    f"the rollout did not end within {self.deadline:g}s of real time (virtual {t:g}s, "
                    f"{self.rollout.released} devices released)"
                )
            while self.restart_at and t >= self.restart_at[0] and self.restart is not None:
                self.restart_at.pop(0)
                # on this thread, not an executor's: the broker dies with the thread that started it
                # (PR_SET_PDEATHSIG), and an executor thread ends with the loop
                self.restart()
            await self._tick(tick, t)
            tick += 1
            self._apply(t)
            if decided is not None and self.stats.told_all_seconds is None:
                # the tick after the abort: its hosts had received every command before they answered
                self.stats.told_all_seconds = time.monotonic() - decided
            was_aborting = self.rollout.aborting
            seen = len(self.rollout.decisions)
            commands = self.rollout.step(t)
            self._tell(seen, t)
            if self.rollout.aborting and not was_aborting:
                self.stats.decided_at, decided = t, time.monotonic()
            if commands:
                await self._send(commands)
                continue  # a tick at the same time: devices hear the commands before time moves
            if self.rollout.done and settle_until is None:
                settle_until = t + 2 * self.rollout.policy.in_progress_timeout
            nxt = self._next_time(t)
            if nxt is None or (settle_until is not None and nxt > settle_until):
                break
            if self.clock == "real":
                await asyncio.sleep((nxt - t) / self.speed)
            t = nxt
        self.stats.virtual_seconds = t
