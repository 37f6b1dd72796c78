"""One MQTT connection that survives its broker: aiomqtt (asyncio, on Eclipse paho-mqtt) underneath, reconnected
with backoff when the broker goes away, subscriptions renewed, publishes held until the link is back.

Why aiomqtt: it is paho-mqtt — the Eclipse reference client, MQTT 3.1.1 and 5 — driven by asyncio, so
thousands of device connections share one event loop per process instead of a thread each (paho's own loop),
and it is typed and maintained. gmqtt is asyncio-native too but sees few releases; amqtt's client is tied to
its broker's codebase.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import aiomqtt

__all__ = ["Link"]

#: aiomqtt warns when many publishes wait on one client; a fleet controller does that by design
_QUIET = logging.getLogger("pytest_iotops.fleet.mqtt")
_QUIET.setLevel(logging.ERROR)


#: without it a QoS 1 exchange waits on Nagle's algorithm and delayed ACKs: 40-90 ms instead of 1 ms per hop
_NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


class Link:
    def __init__(
        self,
        host: str,
        port: int,
        identifier: str,
        subscriptions: Sequence[str],
        on_message: Callable[[str, bytes], None],
        on_connect: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        self.host, self.port, self.identifier = host, port, identifier
        self.subscriptions = list(subscriptions)
        self.on_message = on_message
        self.on_connect = on_connect
        self.connected = asyncio.Event()
        self.connects = 0
        self.closed = False
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"mqtt:{self.identifier}")
        return self._task

    async def _run(self) -> None:
        backoff = 0.02
        while not self.closed:
            try:
                client = aiomqtt.Client(
                    self.host,
                    self.port,
                    identifier=self.identifier,
                    logger=_QUIET,
                    keepalive=30,
                    timeout=10,
                    socket_options=_NODELAY,
                )
                async with client:
                    self._client = client
                    for topic in self.subscriptions:
                        await client.subscribe(topic, qos=1)
                    self.connects += 1
                    self.connected.set()
                    backoff = 0.02
                    if self.on_connect is not None:
                        asyncio.get_running_loop().create_task(self.on_connect())
                    async for message in client.messages:
                        payload = message.payload
                        self.on_message(message.topic.value, payload if isinstance(payload, bytes) else b"")
            except aiomqtt.MqttError:
                pass
            finally:
                self._client = None
                self.connected.clear()
            if not self.closed:
                await asyncio.sleep(backoff)
                backoff = min(1.0, backoff * 2)

    async def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Published once the link is up; a publish cut by a broker restart is sent again after reconnecting
        (at least once, as QoS 1 promises: receivers drop duplicates)."""
        while not self.closed:
            await self.connected.wait()
            client = self._client
            if client is None:
                continue
            try:
                await asyncio.wait_for(client.publish(topic, payload, qos=qos), 10.0)
                return
            except (aiomqtt.MqttError, asyncio.TimeoutError):
                await asyncio.sleep(0.02)

    async def close(self) -> None:
        self.closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await self._task
