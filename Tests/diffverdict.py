"""The verdict on one compared case of a differential run against a reference daemon
(Tests/kvp-diff, Tests/vss-diff), in one place so both read their expected_differences.json the
same way."""


def verdict(diff, rule, pinned=True):
    """(text, ok) for one case.

    diff: the fields that differ; rule: the expected_differences.json entry that names this case
    (or None); pinned: the rule names this very case, so it going away is news (a STALE
    expectation fails, to keep the file true). A difference passes only when a rule allows every
    differing field ("fields"; a rule without it allows any).
    """
    if not diff:
        if rule is not None and pinned:
            return "STALE expectation: %s" % rule["id"], False
        return "same", True
    if rule is not None and set(diff) <= set(rule.get("fields", diff)):
        return "expected: %s" % rule["id"], True
    return "UNEXPECTED (%s)" % ",".join(diff), False
