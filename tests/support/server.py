"""A real uvicorn server on 127.0.0.1 in a background thread, serving a floorsync app."""

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from floorsync.app import create_app
from floorsync.config import Settings


@dataclass
class LiveServer:
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread
    app: Any

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(settings: Settings, **app_kwargs: Any) -> LiveServer:
    app = create_app(settings, **app_kwargs)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread, app)
