"""A local stand-in for Telegram: the Bot API emulator the bot is tested and demoed against."""
