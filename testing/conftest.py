"""Shared pytest setup: quiet TensorFlow, and keep CI on the 2 cores it has."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
