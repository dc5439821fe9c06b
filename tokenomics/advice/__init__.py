"""What the numbers suggest doing: cheaper models, prompt caching, the batch API (savings) and
running open models on own GPUs (TCO)."""
