"""Where responses come from: live model calls or recorded outcomes."""
