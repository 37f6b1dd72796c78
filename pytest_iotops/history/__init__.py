"""The run history: every run report kept in a store (SQLite by default, PostgreSQL for teams sharing one),
and what the history tells — flaky tests, the four DORA keys. The engine imports without pytest; the store is
opened only when ``[tool.iotops.history]`` or ``IOTOPS_HISTORY_URL`` names one."""
