"""The lab's transports, one module each, all reading the same event source."""
