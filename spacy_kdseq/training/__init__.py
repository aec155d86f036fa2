"""spaCy's training loop made resumable: checkpoints that survive a killed process."""
