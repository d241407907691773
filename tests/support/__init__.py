"""Test harness shared by every suite: real servers, real databases."""
