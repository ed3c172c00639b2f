"""The machinery behind :mod:`harness.strategies` (the public module): stream variants, the
provider rewriters, the faults, the substitution of a variant into a replaying cassette, and the
properties checked over them.

* :mod:`harness.fuzz.stream`     a recorded response analysed once (entry bytes, offsets, cut points)
* :mod:`harness.fuzz.variant`    :class:`Variant`: a rewritten interaction, with a readable description
* :mod:`harness.fuzz.rechunk`    the same bytes, cut into other network chunks
* :mod:`harness.fuzz.resplit`    provider-aware delta splits and merges (a registry keyed by format)
* :mod:`harness.fuzz.faults`     truncation, dropped connections, error events, 429/529, stalls (read timeouts)
* :mod:`harness.fuzz.sdk_errors` what each SDK's stream helper raises for each fault, per format (measured)
* :mod:`harness.fuzz.runner`     ``substitute()``, the ``@fuzz`` decorator, the per-example watchdog
* :mod:`harness.fuzz.properties` equivalence, callback order, clean failures
"""
