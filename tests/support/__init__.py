"""Helpers shared by the test modules; conftest files hold only fixtures.

- ``clients``: credentials, mock envelopes and clients with fast retries.
- ``ops`` and ``ops_<area>``: the table-driven operation checks and their tables.
- ``emulator_api``: a raw HTTP client for the emulator tests.
- ``emulator_world``: a populated emulator for the hostile-input suites.
- ``integration``: bucket contents and set-up steps of the integration tests.
"""
