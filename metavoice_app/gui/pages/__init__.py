"""One page per area of the main window: Voices, Clone, Speak, Dub."""
