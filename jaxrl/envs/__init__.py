"""Environments with the gymnax API, and exact tabular models of them."""
