"""The lab's Locust scenarios: one file per transport, and the measurement they share.

Installed with the package as `lab.scenarios` (so `lab bench` finds them in any install),
and run by Locust as plain files: `locust -f scenarios/sse.py`.
"""
