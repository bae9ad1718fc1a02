"""What the synthesized voices say: keyword spellings, confusables, a vocabulary, sentences.

Spellings matter because each TTS engine maps letters to phonemes its own way: "alexa" alone
gives one pronunciation per voice, the variants below give several. The espeak-only entries in
`[[...]]` are phoneme strings (espeak's mnemonic alphabet), which pin the stress pattern.
"""

from __future__ import annotations

import random

KEYWORD_SPELLINGS = ("alexa", "Alexa", "Alexa.", "alexa?", "aleksa", "alecksa", "allexa",
                     "alexah", "uh lexa", "a-lexa")
KEYWORD_PHONEMES_ESPEAK = ("[[@l'Eks@]]", "[[a#l'Eks@]]", "[[al'Eks@]]", "[[@l'eks@]]",
                           "[[@l'Ekss@]]")

# Close in sound to "alexa" (the seed's "unknown" idea): these teach the model the boundary.
CONFUSABLES = (
    "alexis", "election", "a lexus", "lexus", "texas", "alex", "alexander", "alexandra",
    "alaska", "elixir", "relax", "relaxer", "lexicon", "a lecture", "electric", "selection",
    "collection", "affection", "perfection", "exactly", "excel", "eczema", "alexia",
    "a taxi", "a sexy", "a lesson", "unless uh", "aleck", "smart alec", "a leksi", "lexi",
    "lexa", "alissa", "melissa", "vanessa", "alessia", "analysis", "a necklace", "galaxy",
    "a legs up", "all except", "allegra", "alegre", "excellent", "accept", "access",
    "a decks of", "alec's a", "hey alex", "a flexor", "flexa", "plexa", "alexei", "elect a",
)

# Confusables so close to the keyword that a detection on them is no clear error: left out of
# the false-accept streams (bench/detect) and of hard-negative mining (kwshost.data.streams).
NEAR_KEYWORD = frozenset({"lexa", "flexa", "plexa", "a leksi", "alexia", "alexei", "alexa"})

VOCABULARY = (
    "the", "of", "and", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are",
    "as", "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by",
    "word", "but", "not", "what", "all", "were", "we", "when", "your", "can", "said", "there",
    "use", "an", "each", "which", "she", "do", "how", "their", "if", "will", "up", "other",
    "about", "out", "many", "then", "them", "these", "so", "some", "her", "would", "make",
    "like", "him", "into", "time", "has", "look", "two", "more", "write", "go", "see",
    "number", "no", "way", "could", "people", "my", "than", "first", "water", "been", "call",
    "who", "oil", "its", "now", "find", "long", "down", "day", "did", "get", "come", "made",
    "may", "part", "yes", "stop", "play", "music", "light", "lights", "turn", "off", "volume",
    "weather", "today", "tomorrow", "morning", "evening", "kitchen", "living", "room",
    "computer", "phone", "hello", "hey", "okay", "please", "thanks", "zero", "three", "four",
    "five", "six", "seven", "eight", "nine", "ten", "left", "right", "forward", "backward",
    "marvin", "sheila", "follow", "learn", "visual", "wow", "bird", "cat", "dog", "house",
    "tree", "happy", "bed", "friday", "saturday", "sunday", "monday", "timer", "alarm",
    "minutes", "seconds", "open", "close", "door", "window", "garage", "temperature",
    "degrees", "warmer", "cooler", "lamp", "television", "news", "sports", "score", "game",
    "never", "ever", "lesson", "legs", "flex", "sax", "tax", "next", "text", "exit",
    "annex", "complex", "index", "apex", "vortex", "latex", "relax", "waxing", "boxer",
    "lexical", "electron", "elephant", "eleven", "elegant", "element", "alert", "alike",
    "alone", "along", "allow", "alarming", "algebra", "alpha", "album", "alley", "alloy",
    "ally", "also", "after", "apple", "amazon", "echo", "siri", "google", "cortana",
    "assistant", "speaker", "battery", "charger", "coffee", "dinner", "breakfast", "lunch",
    "shopping", "list", "add", "milk", "bread", "eggs", "butter", "order", "deliver",
    "remind", "reminder", "calendar", "meeting", "appointment", "doctor", "birthday",
    "party", "family", "mother", "father", "sister", "brother", "children", "school",
    "office", "travel", "flight", "train", "traffic", "drive", "street", "city", "country",
)

SENTENCE_TEMPLATES = (
    "{a} the {b} in the {c}", "can you {a} the {b}", "what is the {b} {c}",
    "I think we should {a} {b}", "please {a} the {b} and the {c}", "turn {a} the {b}",
    "tell me about the {b}", "how many {b} are in the {c}", "my {b} is {c}",
    "set a {b} for {a} {c}", "did you {a} the {b} yesterday", "the {b} was {c} today",
)

FIXED_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "I would like a cup of coffee with milk and no sugar.",
    "The election results will be announced tomorrow morning.",
    "Alexis and Alexander drove a Lexus to Texas last summer.",
    "We visited Alaska and saw a beautiful galaxy of stars.",
    "Let's relax and watch the news before dinner.",
    "The electric car needs a new battery next week.",
    "Turn off the lights in the kitchen and lock the front door.",
    "What time is the meeting with the doctor on Friday?",
    "My sister is reading a book about the history of Greece.",
    "A lecture on lexical analysis starts at eleven.",
    "It is exactly seven degrees outside, put on a jacket.",
    "Never accept a taxi without checking the license.",
    "Our neighbours have a dog, two cats and an elephant statue.",
)


def sentence(rng: random.Random) -> str:
    """A random sentence: a fixed one, a template filled from the vocabulary, or a word run."""
    kind = rng.random()
    if kind < 0.3:
        return rng.choice(FIXED_SENTENCES)
    if kind < 0.7:
        t = rng.choice(SENTENCE_TEMPLATES)
        return t.format(a=rng.choice(VOCABULARY), b=rng.choice(VOCABULARY),
                        c=rng.choice(VOCABULARY))
    return " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(3, 8)))


def unknown_text(rng: random.Random, language: str = "en") -> tuple[str, str]:
    """(kind, text) for one `_unknown_` clip: a confusable, a single word, or a sentence.

    Voices that cannot read Latin script (`language` other than "en") get their own lists.
    """
    if language == "ru":
        r = rng.random()
        if r < 0.4:
            return "confusable", rng.choice(RUSSIAN_CONFUSABLES)
        if r < 0.7:
            return "word", rng.choice(RUSSIAN_VOCABULARY)
        if r < 0.85:
            return "sentence", rng.choice(RUSSIAN_SENTENCES)
        return "sentence", " ".join(rng.choice(RUSSIAN_VOCABULARY)
                                    for _ in range(rng.randint(3, 7)))
    r = rng.random()
    if r < 0.4:
        return "confusable", rng.choice(CONFUSABLES)
    if r < 0.7:
        return "word", rng.choice(VOCABULARY)
    return "sentence", sentence(rng)


def keyword_text(rng: random.Random, language: str = "en") -> str:
    return rng.choice(RUSSIAN_KEYWORD if language == "ru" else KEYWORD_SPELLINGS)


# Festival's Russian voice reads Cyrillic only; "алекса" is how Russian speakers write "alexa".
RUSSIAN_KEYWORD = ("алекса", "Алекса.", "алекса?", "алэкса", "Алекса!")


def written_forms(keyword: str) -> tuple[str, ...]:
    """The ways the keyword is written in our texts, lower case: "alexa", and for it also the
    Cyrillic spellings the Russian voice reads ("александр" holds "алекса")."""
    forms = {keyword.lower()}
    if keyword.lower() == "alexa":
        forms |= {k.lower().strip(".?!") for k in RUSSIAN_KEYWORD}
    return tuple(sorted(forms))


RUSSIAN_CONFUSABLES = (
    "алексей", "алексия", "лексика", "электрон", "такси", "галактика", "секция", "лекция",
    "коллекция", "алиса", "аляска", "техас", "лексус", "эликсир", "экспресс", "лекса",
    "алеко", "александр", "селекция", "экзамен", "аллея", "эксперт",
)
RUSSIAN_VOCABULARY = (
    "привет", "спасибо", "пожалуйста", "музыка", "погода", "сегодня", "завтра", "свет",
    "дверь", "окно", "кухня", "время", "один", "два", "три", "четыре", "пять", "да", "нет",
    "хорошо", "включи", "выключи", "громче", "тише", "утро", "вечер", "будильник", "телефон",
    "машина", "дорога", "город", "мама", "папа", "школа", "работа", "кофе", "молоко", "хлеб",
)
RUSSIAN_SENTENCES = (
    "включи свет на кухне", "какая сегодня погода", "поставь будильник на семь утра",
    "мы поедем на такси в аэропорт", "Алексей читает лекцию по лексике",
    "позвони маме вечером", "сколько сейчас времени", "закрой окно пожалуйста",
    "в коллекции было много старых монет", "на экзамене все было хорошо",
)
