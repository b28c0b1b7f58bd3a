"""HTTP handlers of the emulator, one module per resource family."""
