"""The versioned prompt files, `<stage>/<version>.yaml`: data shipped with the program (see
service/prompts.py)."""
