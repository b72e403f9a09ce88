"""The garbage collector and the timing-bound tests."""

import gc


def freeze_what_is_alive() -> None:
    """Everything alive now (the imported modules: FastAPI, SQLAlchemy, pydantic, Hypothesis,
    Schemathesis...) leaves the collector's full passes, which otherwise walk it every time
    the tests' garbage triggers one: pauses of 0.5-0.7 s that tripped the timing-bound tests
    (a 2 s readiness timeout, a one-second rate-limit window) now and then."""
    gc.collect()
    gc.freeze()
