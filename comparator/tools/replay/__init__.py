"""``comparator replay``: re-run captured traffic under other rules, before vs after."""
