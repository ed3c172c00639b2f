
@pytest.mark.cassette(allow_unplayed=True)
def test_dbg():
    from anthropic.lib.tools import _beta_runner
    print("RUNTOOL", _beta_runner.BaseSyncToolRunner._run_tool, _beta_runner.BaseSyncToolRunner._run_tool.__qualname__)
    import sys; print([f for f in sys.meta_path][:2])
