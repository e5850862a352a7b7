"""Stages that wrap other libraries' steps so recipes can name them."""
