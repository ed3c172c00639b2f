"""The machinery behind :mod:`harness.strategies` (the public module): stream variants, the
re-splitting engine, the faults, the substitution of a variant into a replaying cassette, and the
properties checked over them. Per-format knowledge is asked of :mod:`harness.providers`.

* :mod:`harness.fuzz.current`     the running test's ledger, as the fuzzer sees it
* :mod:`harness.fuzz.stream`      a recorded response analysed once (entry bytes, offsets, cut points)
* :mod:`harness.fuzz.variant`     :class:`Variant`: a rewritten interaction, with a readable description
* :mod:`harness.fuzz.rechunk`     the same bytes, cut into other network chunks
* :mod:`harness.fuzz.resplit`     delta splits and merges, by the stream's provider
* :mod:`harness.fuzz.faults`      truncation, dropped connections, error events, 429/529, stalls (read timeouts)
* :mod:`harness.fuzz.sdk_errors`  what each SDK's stream helper raises for each fault (the providers' tables)
* :mod:`harness.fuzz.strategies`  the hypothesis strategies over a cassette's responses
* :mod:`harness.fuzz.runner`      ``substitute()``, the ``@fuzz`` decorator, the per-example watchdog
* :mod:`harness.fuzz.properties`  equivalence, callback order, clean failures
* :mod:`harness.fuzz.respx_layer` respx routes layered over a cassette (imports respx: loaded on first use)
"""
