# project/ is a user's project that tests/packaging runs with the installed wheel, not part of this suite.
collect_ignore = ["project"]
