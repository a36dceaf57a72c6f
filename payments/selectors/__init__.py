"""Reads of the payments app: recipients and their case files, decisions and their queues."""
