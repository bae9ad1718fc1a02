"""Offline training data: TTS voices, words, noise, augmentation, dataset synthesis, feature cache."""
