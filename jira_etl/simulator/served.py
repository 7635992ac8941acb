"""The lifecycle both simulators share (Cloud and Data Center): `with` starts the HTTP
server if `start()` has not, and `stop()` shuts it down and frees the port."""

from __future__ import annotations


class Served:
    """For a class whose `start()` sets `self._server` to a running socketserver."""

    _server = None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
