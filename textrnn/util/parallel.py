"""An ordered, bounded-memory parallel map over a stream.

`multiprocessing.Pool.imap` reads its whole input ahead of the workers, so
memory would grow with the corpus; this keeps at most a few tasks per worker
in flight and yields results in input order.
"""

import collections
import multiprocessing


def ordered_map(fn, tasks, num_workers, in_flight_per_worker=4):
    """Yield fn(task) for each task, in order, using num_workers processes."""
    if num_workers <= 1:
        yield from map(fn, tasks)
        return
    # fork is not safe once TensorFlow's threads exist; spawn is.
    context = multiprocessing.get_context("spawn")
    with context.Pool(num_workers) as pool:
        pending = collections.deque()
        limit = num_workers * in_flight_per_worker
        for task in tasks:
            pending.append(pool.apply_async(fn, (task,)))
            if len(pending) >= limit:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
