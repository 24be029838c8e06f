"""Tests of the local vendor sandbox (devstack.sandbox)."""
