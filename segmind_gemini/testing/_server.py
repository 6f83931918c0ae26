"""An ``aiohttp.web`` application served on its own event loop in a background thread.

So that sync and async code alike can call it. Nothing here knows about Segmind.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web

__all__ = ["LoopServer"]


class LoopServer:
    """Serves the application ``make_app()`` builds on ``host:port`` (0: a free port)."""

    def __init__(self, host: str, port: int, make_app: Callable[[], web.Application]) -> None:
        self.host = host
        self._requested_port = port
        self._make_app = make_app
        self.port: int | None = None
        self._lifecycle = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start serving (no-op if running).

        Raises:
            OSError: the address could not be bound (for example the port is taken).
        """
        with self._lifecycle:
            if self._thread is not None:
                return
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            errors: list[BaseException] = []
            thread = threading.Thread(
                target=self._serve, args=(loop, ready, errors), name="segmind-emulator", daemon=True
            )
            thread.start()
            ready.wait()
            if errors:
                thread.join()
                raise errors[0]
            self._loop, self._thread = loop, thread

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice or before ``start``."""
        with self._lifecycle:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            if loop is None or thread is None:
                return
            loop.call_soon_threadsafe(loop.stop)
            thread.join()

    def _serve(
        self, loop: asyncio.AbstractEventLoop, ready: threading.Event, errors: list[BaseException]
    ) -> None:
        asyncio.set_event_loop(loop)
        try:
            runner = loop.run_until_complete(self._open())
        except BaseException as exc:
            errors.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            # Handlers still sleeping on a scripted delay must not outlive the loop.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _open(self) -> web.AppRunner:
        # Short shutdown: stopping must not wait on a scripted delay.
        runner = web.AppRunner(
            self._make_app(), access_log=None, shutdown_timeout=0.2, handler_cancellation=True
        )
        await runner.setup()
        # A big backlog so bursts of hundreds of concurrent connects are not refused.
        site = web.TCPSite(runner, self.host, self._requested_port, backlog=2048)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self.port = int(runner.addresses[0][1])
        return runner
