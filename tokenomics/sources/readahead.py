"""Read ahead: the next chunk of a stream is produced on a thread while the caller works on this one."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from queue import Empty, Full, Queue
from typing import TypeVar

T = TypeVar("T")


def read_ahead(chunks: Iterator[T]) -> Iterator[T]:
    """`chunks`, the next one produced on a thread while the caller works on this one.

    Parsing (DuckDB, Polars) and the work after it (stage, conform, enrich, spill) release the GIL, so on
    2 cores they overlap: one chunk in flight, memory one chunk more per stage. Order is kept, and the
    producer's error is raised here, at the chunk where it happened. Stacked (the raw parse ahead of a
    reader's mapping, ahead of ingest's conform and spill), a 1M-event ingest keeps both cores busy.
    """
    queue: Queue = Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        queue.put((chunk, None), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            queue.put((_DONE, exc))

    # The producer runs in the caller's context: the pseudonymization key (a ContextVar) included.
    worker = threading.Thread(target=contextvars.copy_context().run, args=(produce,), name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            chunk, error = queue.get()
            if error is not None:
                raise error
            if chunk is _DONE:
                return
            yield chunk
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue, then let it finish
            try:
                queue.get(timeout=0.1)
            except Empty:
                pass
        worker.join()


_DONE = object()
