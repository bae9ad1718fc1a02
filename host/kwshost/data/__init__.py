"""Offline training data: TTS voices, words, noise, augmentation, synthesis, feature cache."""
