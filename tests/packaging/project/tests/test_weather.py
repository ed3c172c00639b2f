import os

import anthropic
import pytest


@pytest.mark.cassette
def test_asks_the_model():
    claude = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ.get("MODEL_URL", "http://127.0.0.1:9"), max_retries=0)
    reply = claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": "Paris?"}])
    assert reply.content[0].text


def test_the_plugin_comes_from_the_installed_wheel():
    import importlib.metadata

    import harness.plugin

    site = os.environ["EXPECTED_SITE"]
    assert harness.plugin.__file__.startswith(site), harness.plugin.__file__
    dist = importlib.metadata.distribution("pytest-agent-harness")
    assert str(dist.locate_file("harness/plugin.py")).startswith(site)
    assert dist.read_text("direct_url.json") is None or '"editable": true' not in dist.read_text("direct_url.json")
