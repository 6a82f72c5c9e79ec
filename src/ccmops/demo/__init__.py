"""The demo world: a small named cast of practices, a partner, staff and patients, reused by the demo, the
tests and the docs."""
