"""Python's cycle collector, set for processes that parse and drop tens of thousands of
objects a second.

By default the collector looks at the young objects each time 700 more have been made than
freed. A page of 5,000 events parsed is tens of thousands of objects, and each collection
walked all of them again: a quarter of a read-model rebuild's time went there (at 50,000,
still a tenth). Nearly everything a batch makes is freed by reference counting the moment
the batch is done, so the young generation is collected only when more are held than a page
makes; a cycle still goes, only later.
"""

import gc

YOUNG = 200_000  # container objects made (net) between collections of the young generation


def tune_collector() -> None:
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)


def freeze_startup() -> None:
    """What a long-running process has built by the time it serves (modules, classes, the
    contracts' validators) it keeps for its life: left out of every collection from now on,
    so a collection of the old generation walks only what came later."""
    gc.collect()
    gc.freeze()
