"""Sending tasks: what the API and the schedule call once a job's row is written."""

from __future__ import annotations

import logging

from celery import Celery
from kombu.exceptions import ChannelError

log = logging.getLogger(__name__)


class Queue:
    """Sends a job's task. A broker that is away is logged, not raised: the row is the record, and
    the schedule sends again any job still queued after queue.resend_after_s."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def briefing(self, briefing_id: str) -> bool:
        """Send the task of a queued briefing; return whether the broker took it."""
        return self._send("briefing.run_briefing", briefing_id)

    def digest(self, day: str) -> bool:
        """Send the task of a requested digest run; return whether the broker took it."""
        return self._send("briefing.run_digest", day)

    def ping(self) -> None:
        """Raise if the broker cannot be reached (nothing to reach when tasks run inline)."""
        if self.app.conf.task_always_eager:
            return
        with self.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)

    def waiting(self) -> int | None:
        """Messages waiting in the broker's task queue; None when tasks run inline or it cannot tell."""
        if self.app.conf.task_always_eager:
            return None
        try:
            with self.app.connection_for_write() as connection:
                declared = connection.default_channel.queue_declare(
                    queue=self.app.conf.task_default_queue, passive=True)
                return int(declared.message_count)
        except ChannelError as err:
            if str(getattr(err, "reply_code", "")) == "404":  # Redis keeps no key for an empty queue: none wait
                return 0
            log.warning("cannot tell how many tasks wait in the broker: %s", err)
            return None
        except Exception as err:  # noqa: BLE001 - an unknown depth only means resending more
            log.warning("cannot tell how many tasks wait in the broker: %s", err)
            return None

    def _send(self, name: str, key: str) -> bool:
        try:
            # why: through the registered task, so Celery's eager mode (tests) runs it in this thread
            self.app.tasks[name].apply_async((key,))
        except Exception as err:  # noqa: BLE001 - any broker failure: the schedule resends later
            log.warning("could not send %s(%s), it will be resent: %s", name, key, err)
            return False
        return True
