"""Says hello, in the words its settings file gives."""
