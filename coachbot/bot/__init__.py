"""The Telegram layer (python-telegram-bot): decode an update, call one service, render the reply."""
