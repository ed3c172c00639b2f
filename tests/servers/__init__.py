"""Real servers on loopback that the tests record against (and stop before replaying)."""
