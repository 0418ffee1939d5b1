"""Requests that arrive together run as one model call, off the event loop.

A SavedModel call costs about the same for one text as for dozens (the
work is a few small matrix products per step), so under many concurrent
clients the throughput comes from running their texts as one batch, as
TensorFlow Serving's batching does. The model runs in one worker thread:
the event loop keeps answering health checks and reading requests while a
batch runs, and the calls never compete with each other for the cores.

The rule: when the model is free, the next batch takes every text waiting,
up to max_batch_size. When the last batch held several requests (clients
are sending concurrently), it first waits up to `timeout` seconds for the
batch to fill, so that clients who just got their answers can send again.
A lone client never waits: its batches hold one request each. A request
with more texts than max_batch_size is cut into batches of that size.
"""

import asyncio
import collections
import concurrent.futures
import dataclasses

import numpy as np


@dataclasses.dataclass
class _Item:
    key: object  # what runs the texts: items of different keys never share a call
    texts: list
    future: asyncio.Future
    combine: bool  # False: this item's outputs depend on its batch (run it alone)


class Batcher:
    """Runs `run(key, texts) -> {name: array [len(texts), ...]}` in batches."""

    def __init__(self, run, max_batch_size, timeout):
        self._run = run
        self._max = max_batch_size
        self._timeout = timeout
        self._waiting = collections.deque()
        self._wake = asyncio.Event()
        self._concurrent = False
        self._executor = concurrent.futures.ThreadPoolExecutor(1, "textrnn-model")
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def submit(self, key, texts, combine=True):
        """The outputs for `texts`, run with other requests' texts of the same key."""
        loop = asyncio.get_running_loop()
        if not combine:
            parts = [self._queue(key, texts, combine, loop)]
        else:
            parts = [self._queue(key, texts[i:i + self._max], combine, loop)
                     for i in range(0, len(texts), self._max)]
        results = await asyncio.gather(*parts)
        if len(results) == 1:
            return results[0]
        return {name: np.concatenate([r[name] for r in results]) for name in results[0]}

    def _queue(self, key, texts, combine, loop):
        item = _Item(key, texts, loop.create_future(), combine)
        self._waiting.append(item)
        self._wake.set()
        return item.future

    async def close(self):
        """Finish every waiting request, then stop the worker."""
        while self._waiting:
            await asyncio.sleep(0.001)
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._executor.shutdown(wait=True)

    async def _loop(self):
        while True:
            if not self._waiting:
                self._wake.clear()
                await self._wake.wait()
            if self._concurrent and self._timeout > 0:
                await self._fill()
            batch = self._take()
            self._concurrent = len(batch) > 1 or bool(self._waiting)
            await self._execute(batch)

    async def _fill(self):
        """Wait until max_batch_size texts wait, or `timeout` has passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while sum(len(i.texts) for i in self._waiting) < self._max:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except asyncio.TimeoutError:
                return

    def _take(self):
        """The next batch: the first waiting item and those after it it can share a call with."""
        first = self._waiting.popleft()
        batch, size = [first], len(first.texts)
        if not first.combine:
            return batch
        kept = collections.deque()
        while self._waiting:
            item = self._waiting.popleft()
            if item.combine and item.key == first.key and size + len(item.texts) <= self._max:
                batch.append(item)
                size += len(item.texts)
            else:
                kept.append(item)
        self._waiting.extendleft(reversed(kept))
        return batch

    async def _execute(self, batch):
        texts = [text for item in batch for text in item.texts]
        loop = asyncio.get_running_loop()
        try:
            outputs = await loop.run_in_executor(self._executor, self._run, batch[0].key, texts)
        except Exception as error:  # the model failed: each request of the batch hears why
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(error)
            return
        start = 0
        for item in batch:
            end = start + len(item.texts)
            if not item.future.done():  # a client that went away cancelled its future
                item.future.set_result({k: v[start:end] for k, v in outputs.items()})
            start = end
